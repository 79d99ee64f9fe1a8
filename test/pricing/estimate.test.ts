import { describe, expect, it } from 'vitest';
import { PriceBook, UNKNOWN_COST, isReportedCost, resolveCost } from '../../src/pricing/index.js';

const book = new PriceBook({ models: { 'house-model': { input: 1, output: 2, cached_input: 0.5, cache_write: 1.25 } } });

describe('PriceBook.estimate', () => {
  it.each([
    ['gpt-4o', 1000, 500, undefined, undefined],
    ['gpt-4o-2024-08-06', 10_000, 1000, 4000, undefined],
    ['house-model', 1000, 10, 200, 300],
    ['house-model', 10, 10, 20, 0],
    ['house-model', -1, 10, undefined, undefined],
    ['house-model', Number.NaN, 10, undefined, undefined],
    ['my-local-llama', 1000, 1000, undefined, undefined],
  ] as const)('prices %s (%d in, %d out, %s cached, %s written) as cost() does', (model, inputTokens, outputTokens, cachedInputTokens, cacheWriteTokens) => {
    expect(book.estimate(model, inputTokens, outputTokens, cachedInputTokens, cacheWriteTokens)).toBe(
      book.cost({ model, inputTokens, outputTokens, cachedInputTokens, cacheWriteTokens }),
    );
  });

  it('answers right when model names alternate call after call', () => {
    const names = ['gpt-4o', 'gpt-4o-mini', 'gpt-4o', 'my-local-llama', 'gpt-4o', 'house-model', 'house-model', 'gpt-4o-mini'];
    const fresh = (name: string) => new PriceBook({ models: { 'house-model': { input: 1, output: 2 } } }).priceFor(name)?.key ?? null;
    for (const name of names) expect(book.priceFor(name)?.key ?? null).toBe(fresh(name));
  });
});

describe('isReportedCost', () => {
  it('trusts finite non-negative numbers only', () => {
    expect([0, 0.0042, 12].every(isReportedCost)).toBe(true);
    expect([-1, Number.NaN, Number.POSITIVE_INFINITY, null, undefined, '0.1'].some(isReportedCost)).toBe(false);
  });

  it('is the rule resolveCost applies', () => {
    expect(resolveCost({ providerCostUsd: -1 }, book)).toBe(UNKNOWN_COST);
    expect(resolveCost({ providerCostUsd: 0 }, book)).toEqual({ cost_usd: 0, cost_source: 'provider' });
  });
});
