import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, expect } from 'vitest';
import { PriceBook } from '../../src/pricing/index.js';

const book = new PriceBook();

function priceFile(content: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'flowmeter-prices-'));
  const path = join(dir, 'prices.json');
  writeFileSync(path, JSON.stringify(content));
  return path;
}

describe('PriceBook.cost', () => {
  it('charges input and output at list price', () => {
    // 1000 × $2.50/M + 500 × $10/M = 0.0025 + 0.005
    expect(book.cost({ model: 'gpt-4o', inputTokens: 1000, outputTokens: 500 })).toBeCloseTo(0.0075, 12);
  });

  it('charges cached input tokens at the cached price and the rest of the input at full price', () => {
    // 6000 × 2.50 + 4000 × 1.25 + 1000 × 10 = 30000 µ$
    const cost = book.cost({ model: 'gpt-4o-2024-08-06', inputTokens: 10_000, cachedInputTokens: 4000, outputTokens: 1000 });
    expect(cost).toBeCloseTo(0.03, 12);
  });

  it('charges cache reads and cache writes separately for Anthropic models', () => {
    // 2000 × 3 + 6000 × 0.30 + 2000 × 3.75 + 500 × 15 = 22800 µ$
    const cost = book.cost({
      model: 'claude-sonnet-4-20250514',
      inputTokens: 10_000,
      cachedInputTokens: 6000,
      cacheWriteTokens: 2000,
      outputTokens: 500,
    });
    expect(cost).toBeCloseTo(0.0228, 12);
  });

  it('charges cached tokens at the input price when the model has no cached price', () => {
    // gpt-4 has no prompt caching: 1000 × 30 + 100 × 60 = 36000 µ$
    const cost = book.cost({ model: 'gpt-4', inputTokens: 1000, cachedInputTokens: 400, outputTokens: 100 });
    expect(cost).toBeCloseTo(0.036, 12);
  });

  it('charges cache-write tokens at the input price when the model has no cache-write price', () => {
    const cost = book.cost({ model: 'gpt-4o', inputTokens: 1000, cacheWriteTokens: 1000, outputTokens: 0 });
    expect(cost).toBeCloseTo(0.0025, 12);
  });

  it('gives a true zero for a known model and no tokens', () => {
    expect(book.cost({ model: 'gpt-4o-mini', inputTokens: 0, outputTokens: 0 })).toBe(0);
  });

  it('gives null, not 0, for an unknown model', () => {
    expect(book.cost({ model: 'my-local-llama', inputTokens: 1000, outputTokens: 1000 })).toBeNull();
  });

  it.each([
    ['more cached tokens than input tokens', { inputTokens: 100, cachedInputTokens: 101, outputTokens: 0 }],
    ['cached plus written above the input total', { inputTokens: 100, cachedInputTokens: 60, cacheWriteTokens: 50, outputTokens: 0 }],
    ['a negative count', { inputTokens: 100, outputTokens: -1 }],
    ['a NaN count', { inputTokens: Number.NaN, outputTokens: 1 }],
    ['an infinite count', { inputTokens: 1, outputTokens: Number.POSITIVE_INFINITY }],
  ])('gives null for inconsistent usage: %s', (_, usage) => {
    expect(book.cost({ model: 'gpt-4o', ...usage })).toBeNull();
  });
});

describe('PriceBook.priceFor', () => {
  it('returns the price with the key it matched', () => {
    expect(book.priceFor('openai/gpt-4o-mini')).toMatchObject({ key: 'gpt-4o-mini', source: 'catalogue', provider: 'openai', input: 0.15, output: 0.6, cached_input: 0.075 });
  });

  it('returns null for an unknown model', () => {
    expect(book.priceFor('my-local-llama')).toBeNull();
  });
});

describe('PriceBook with user prices', () => {
  it('lets a user file override a default and add a new model', () => {
    const file = priceFile({ models: { 'gpt-4o': { input: 1, output: 2 }, 'my-local-llama': { input: 0.5, output: 1.5, cached_input: 0.1 } } });
    const custom = new PriceBook({ file });
    expect(custom.priceFor('openai/gpt-4o-2024-08-06')).toEqual({ key: 'gpt-4o', source: 'override', provider: null, input: 1, output: 2 });
    // 1000 × 1 + 1000 × 2 = 3000 µ$
    expect(custom.cost({ model: 'gpt-4o', inputTokens: 1000, outputTokens: 1000 })).toBeCloseTo(0.003, 12);
    // 600 × 0.5 + 400 × 0.1 + 200 × 1.5 = 640 µ$
    expect(custom.cost({ model: 'my-local-llama', inputTokens: 1000, cachedInputTokens: 400, outputTokens: 200 })).toBeCloseTo(0.00064, 12);
    expect(custom.priceFor('gpt-4o-mini')?.input).toBe(0.15);
  });

  it('replaces a default spelled differently instead of keeping both', () => {
    const custom = new PriceBook({ models: { 'GPT-4.1': { input: 9, output: 9 } } });
    expect(custom.priceFor('gpt-4.1-2025-04-14')).toEqual({ key: 'GPT-4.1', source: 'override', provider: null, input: 9, output: 9 });
    expect(custom.entries().filter((e) => e.key.toLowerCase() === 'gpt-4.1')).toHaveLength(1);
  });

  it('lets a more specific user key win over its family for that name only', () => {
    const custom = new PriceBook({ models: { 'gpt-4o-2024-11-20': { input: 7, output: 7 } } });
    expect(custom.priceFor('gpt-4o-2024-11-20')?.key).toBe('gpt-4o-2024-11-20');
    expect(custom.priceFor('gpt-4o-2024-08-06')?.key).toBe('gpt-4o');
  });

  it('lets prices given in code win over the file', () => {
    const file = priceFile({ models: { 'gpt-4o': { input: 1, output: 2 } } });
    const custom = new PriceBook({ file, models: { 'gpt-4o': { input: 3, output: 4 } } });
    expect(custom.priceFor('gpt-4o')).toEqual({ key: 'gpt-4o', source: 'override', provider: null, input: 3, output: 4 });
  });

  it('drops the defaults with replaceDefaults', () => {
    const custom = new PriceBook({ replaceDefaults: true, models: { 'house-model': { input: 1, output: 1 } } });
    expect(custom.priceFor('gpt-4o')).toBeNull();
    expect(custom.priceFor('house-model-v2')?.key).toBe('house-model');
    expect(custom.entries()).toHaveLength(1);
  });

  it('does not share overrides between books', () => {
    new PriceBook({ models: { 'gpt-4o': { input: 100, output: 100 } } });
    expect(new PriceBook().priceFor('gpt-4o')?.input).toBe(2.5);
  });
});
