import { describe, it, expect } from 'vitest';
import { DEFAULT_PRICES, PRICES_AS_OF, PriceBook, normalizeModelName } from '../../src/pricing/index.js';

const REQUIRED = [
  'gpt-5', 'gpt-5-mini', 'gpt-5-nano', 'gpt-4.1', 'gpt-4.1-mini', 'gpt-4.1-nano', 'gpt-4o', 'gpt-4o-mini',
  'o1', 'o3', 'o3-mini', 'o4-mini', 'gpt-4-turbo', 'gpt-4', 'gpt-3.5-turbo',
  'claude-opus-4-5', 'claude-opus-4-1', 'claude-opus-4', 'claude-sonnet-4-5', 'claude-sonnet-4',
  'claude-3-7-sonnet', 'claude-3-5-sonnet', 'claude-haiku-4-5', 'claude-3-5-haiku', 'claude-3-opus', 'claude-3-haiku',
  'gemini-2.5-pro', 'gemini-2.5-flash', 'gemini-2.5-flash-lite', 'gemini-2.0-flash',
  'deepseek-chat', 'deepseek-reasoner', 'mistral-large', 'llama-3.1-70b',
];

describe('the default price table', () => {
  it.each(REQUIRED)('has an entry for %s that the matcher finds under its own name', (key) => {
    expect(DEFAULT_PRICES[key]).toBeDefined();
    expect(new PriceBook().priceFor(key)?.key).toBe(key);
  });

  it('has only non-negative, finite prices', () => {
    for (const price of Object.values(DEFAULT_PRICES)) {
      for (const value of [price.input, price.output, price.cached_input ?? 0, price.cache_write ?? 0]) {
        expect(Number.isFinite(value) && value >= 0).toBe(true);
      }
    }
  });

  it('never prices a cache hit above uncached input', () => {
    for (const price of Object.values(DEFAULT_PRICES)) {
      expect(price.cached_input ?? price.input).toBeLessThanOrEqual(price.input);
    }
  });

  it('has no two keys that normalize to the same name', () => {
    const keys = Object.keys(DEFAULT_PRICES).map(normalizeModelName);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('carries the published list prices for a few well-known models', () => {
    expect(DEFAULT_PRICES['gpt-4o']).toEqual({ input: 2.5, output: 10, cached_input: 1.25 });
    expect(DEFAULT_PRICES['gpt-4o-mini']).toEqual({ input: 0.15, output: 0.6, cached_input: 0.075 });
    expect(DEFAULT_PRICES['claude-sonnet-4']).toEqual({ input: 3, output: 15, cached_input: 0.3, cache_write: 3.75 });
  });

  it('is frozen, so no caller can change the defaults for everyone', () => {
    expect(Object.isFrozen(DEFAULT_PRICES)).toBe(true);
    expect(Object.isFrozen(DEFAULT_PRICES['gpt-4o'])).toBe(true);
  });

  it('states its as-of date as an ISO calendar date', () => {
    expect(PRICES_AS_OF).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(Number.isNaN(Date.parse(PRICES_AS_OF))).toBe(false);
  });
});
