import { calcPrice } from '@pydantic/genai-prices';
import { describe, expect, it } from 'vitest';
import { CATALOGUE_VERSION, Catalogue, PriceBook, candidateNames } from '../../src/pricing/index.js';

const book = new PriceBook();

describe('the price catalogue behind our name handling', () => {
  it.each([
    ['openai/gpt-4o-2024-08-06', 'openai', 'gpt-4o'],
    ['gpt-4o-mini-2024-07-18', 'openai', 'gpt-4o-mini'],
    ['anthropic/claude-sonnet-4.5', 'anthropic', 'claude-sonnet-4-5'],
    ['claude-sonnet-4-5-20250929', 'anthropic', 'claude-sonnet-4-5'],
    ['anthropic.claude-3-5-sonnet-20240620-v1:0', 'anthropic', 'claude-3-5-sonnet'],
    ['us.anthropic.claude-3-7-sonnet-20250219-v1:0', 'anthropic', 'claude-3-7-sonnet-latest'],
    ['anthropic/claude-3.7-sonnet:thinking', 'anthropic', 'claude-3-7-sonnet-latest'],
    ['claude-3-5-sonnet@20240620', 'anthropic', 'claude-3-5-sonnet'],
    ['GPT-4o', 'openai', 'gpt-4o'],
    ['gpt-4.1-2025-04-14', 'openai', 'gpt-4.1'],
    ['gpt-4o-2024-05-13', 'openai', 'gpt-4o-2024-05-13'],
    ['google/gemini-2.5-flash-lite', 'google', 'gemini-2.5-flash-lite'],
    ['gemini-2.5-pro', 'google', 'gemini-2.5-pro'],
    ['deepseek/deepseek-chat', 'deepseek', 'deepseek-chat'],
  ])('resolves %s to %s %s', (name, provider, model) => {
    expect(book.priceFor(name)).toMatchObject({ source: 'catalogue', provider, key: model });
  });

  it.each(['my-local-llama', 'gpt-40', '', 'claude', 'o33', 'gpt-4omega', 'mystery-llm'])('knows no price for %j, so the cost stays null', (name) => {
    expect(book.priceFor(name)).toBeNull();
    expect(book.estimate(name, 1000, 100)).toBeNull();
  });

  it("prices an open-weight model at its host's rates when the call names the host", () => {
    const name = 'meta-llama/Meta-Llama-3.1-70B-Instruct-Turbo';
    expect(book.priceFor(name)).toBeNull();
    expect(book.priceFor(name, 'together')).toMatchObject({ provider: 'together' });
  });

  // Our per-call arithmetic (rates resolved once per name) must give what the library's own
  // calculation gives, tiers and cache included.
  it.each([
    ['gpt-4o', { input_tokens: 1200, output_tokens: 300 }],
    ['gpt-4o', { input_tokens: 1200, cache_read_tokens: 1000, output_tokens: 300 }],
    ['claude-sonnet-4-5', { input_tokens: 10_000, output_tokens: 2_000 }],
    ['claude-sonnet-4-5', { input_tokens: 300_000, output_tokens: 2_000 }],
    ['claude-sonnet-4-5', { input_tokens: 250_000, cache_read_tokens: 200_000, cache_write_tokens: 10_000, output_tokens: 100 }],
    ['gemini-2.5-pro', { input_tokens: 199_999, output_tokens: 1_000 }],
    ['gemini-2.5-pro', { input_tokens: 200_001, output_tokens: 1_000 }],
  ] as const)('prices %s %j as the catalogue does', (model, usage) => {
    const expected = calcPrice({ ...usage }, model)!.total_price;
    const ours = book.estimate(model, usage.input_tokens, usage.output_tokens, 'cache_read_tokens' in usage ? usage.cache_read_tokens : undefined, 'cache_write_tokens' in usage ? usage.cache_write_tokens : undefined);
    expect(ours).toBeCloseTo(expected, 12);
  });

  it('charges a long Claude Sonnet 4.5 prompt at the long-context rate, which a flat table under-prices', () => {
    const short = book.estimate('claude-sonnet-4-5', 200_000, 1_000)!;
    const long = book.estimate('claude-sonnet-4-5', 200_001, 1_000)!;
    expect(short).toBeCloseTo(0.6 + 0.015, 9);
    expect(long).toBeCloseTo(200_001 * 6e-6 + 1_000 * 22.5e-6, 9);
  });

  it('lets a user override win over the catalogue, under any spelling', () => {
    const custom = new PriceBook({ models: { 'gpt-4o': { input: 1, output: 1 } } });
    expect(custom.priceFor('openai/gpt-4o-2024-08-06')).toMatchObject({ source: 'override', key: 'gpt-4o', input: 1 });
    expect(custom.estimate('gpt-4o', 1_000_000, 0)).toBe(1);
  });

  it('prices only the overrides with replaceDefaults', () => {
    expect(new PriceBook({ replaceDefaults: true }).priceFor('gpt-4o')).toBeNull();
  });

  it('takes router prefixes and Bedrock decorations apart in order', () => {
    expect(candidateNames('us.anthropic.claude-3-7-sonnet-20250219-v1:0')).toEqual([
      'us.anthropic.claude-3-7-sonnet-20250219-v1:0',
      'claude-3-7-sonnet-20250219',
    ]);
    expect(candidateNames('openai/gpt-4.1')).toEqual(['openai/gpt-4.1', 'gpt-4.1', 'openai/gpt-4-1', 'gpt-4-1']);
  });

  it('names the version of the bundled data', () => {
    expect(CATALOGUE_VERSION).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('looks a name up once and reuses the rates', () => {
    const catalogue = new Catalogue();
    const first = catalogue.find('gpt-4o', undefined, 1_000);
    expect(catalogue.find('gpt-4o', undefined, 2_000)).toBe(first);
  });
});
