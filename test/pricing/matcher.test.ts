import { describe, it, expect } from 'vitest';
import { ModelMatcher, normalizeModelName, PriceBook } from '../../src/pricing/index.js';

const book = new PriceBook();

describe('model name matching against the catalogue', () => {
  it.each([
    ['openai/gpt-4o-2024-08-06', 'gpt-4o'],
    ['gpt-4o-mini-2024-07-18', 'gpt-4o-mini'],
    ['anthropic/claude-sonnet-4.5', 'claude-sonnet-4-5'],
    ['claude-sonnet-4-5-20250929', 'claude-sonnet-4-5'],
    ['claude-sonnet-4-20250514', 'claude-sonnet-4-0'],
    ['anthropic.claude-3-5-sonnet-20240620-v1:0', 'claude-3-5-sonnet'],
    ['claude-3-5-sonnet@20240620', 'claude-3-5-sonnet'],
    ['gpt-4.1-mini', 'gpt-4.1-mini'],
    ['GPT-4o', 'gpt-4o'],
    ['gpt-4.1-2025-04-14', 'gpt-4.1'],
    ['gpt-4-0613', 'gpt-4'],
    ['gpt-4-turbo-2024-04-09', 'gpt-4-turbo'],
    ['gpt-4o-2024-05-13', 'gpt-4o-2024-05-13'],
    ['claude-opus-4-5-20251101', 'claude-opus-4-5'],
    ['claude-opus-4-20250514', 'claude-opus-4-0'],
    ['us.anthropic.claude-3-7-sonnet-20250219-v1:0', 'claude-3-7-sonnet-latest'],
    ['anthropic/claude-3.7-sonnet:thinking', 'claude-3-7-sonnet-latest'],
    ['o3-mini-2025-01-31', 'o3-mini'],
    ['o3-2025-04-16', 'o3'],
    ['google/gemini-2.5-flash-lite', 'gemini-2.5-flash-lite'],
    ['gemini-2.5-flash-preview-05-20', 'gemini-2.5-flash-preview'],
    ['gpt-3.5-turbo-0125', 'gpt-3.5-turbo'],
    ['deepseek/deepseek-chat', 'deepseek-chat'],
  ])('finds %s as %s', (name, key) => {
    expect(book.priceFor(name)?.key).toBe(key);
  });

  it.each([['gpt-4o-2024-08-06'], ['gpt-4o-mini'], ['gpt-40'], ['chatgpt-4'], ['gpt-4omega']])(
    'does not choose gpt-4 for %s',
    (name) => {
      expect(book.priceFor(name)?.key).not.toBe('gpt-4');
    },
  );

  it.each([['my-local-llama'], ['gpt-40'], [''], ['   '], ['claude'], ['o33']])('finds nothing for %j', (name) => {
    expect(book.priceFor(name)).toBeNull();
  });
});

describe('normalizeModelName', () => {
  it('lowercases and turns a dot between digits into a dash', () => {
    expect(normalizeModelName('Claude-Sonnet-4.5')).toBe('claude-sonnet-4-5');
  });

  it('keeps dots that separate words, as in Bedrock ids', () => {
    expect(normalizeModelName('anthropic.claude-3-5-sonnet-v1:0')).toBe('anthropic.claude-3-5-sonnet-v1:0');
  });
});

describe('ModelMatcher', () => {
  it('prefers the longest key that matches', () => {
    const matcher = new ModelMatcher(['a', 'a-b', 'a-b-c']);
    expect(matcher.match('x/a-b-c-2024')).toBe('a-b-c');
    expect(matcher.match('x/a-b-d')).toBe('a-b');
  });

  it('matches keys only at separator boundaries', () => {
    const matcher = new ModelMatcher(['mini']);
    expect(matcher.match('x_mini@1')).toBe('mini');
    expect(matcher.match('gemini')).toBeNull();
    expect(matcher.match('minix')).toBeNull();
  });

  it('finds a key that occurs a second time at a boundary after a first non-boundary hit', () => {
    const matcher = new ModelMatcher(['gpt-4']);
    expect(matcher.match('gpt-4o/gpt-4')).toBe('gpt-4');
  });

  it('returns the key as it was given, not its normalized form', () => {
    const matcher = new ModelMatcher(['My-Model-1.5']);
    expect(matcher.match('vendor/my-model-1-5-latest')).toBe('My-Model-1.5');
  });

  it('gives the same answer from its cache on a repeated name', () => {
    const matcher = new ModelMatcher(['gpt-4o', 'gpt-4o-mini']);
    const first = matcher.match('gpt-4o-mini-2024-07-18');
    expect(matcher.match('gpt-4o-mini-2024-07-18')).toBe(first);
    expect(matcher.match('unknown')).toBeNull();
    expect(matcher.match('unknown')).toBeNull();
  });

  it('keeps answering correctly after its cache is full', () => {
    const matcher = new ModelMatcher(['gpt-4o']);
    for (let i = 0; i < 2000; i++) matcher.match(`other-${i}`);
    expect(matcher.match('gpt-4o-2024-11-20')).toBe('gpt-4o');
    expect(matcher.match('other-1999')).toBeNull();
  });
});
