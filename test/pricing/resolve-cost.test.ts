import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, expect } from 'vitest';
import { PriceBook, PricingConfigError, priceBookFromEnv, resolveCost } from '../../src/pricing/index.js';

const book = new PriceBook();
const usage = { model: 'gpt-4o-mini', inputTokens: 1000, outputTokens: 1000 };
// 1000 × 0.15 + 1000 × 0.60 = 750 µ$
const tableCost = 0.00075;

function priceFile(content: unknown): string {
  const path = join(mkdtempSync(join(tmpdir(), 'flowmeter-env-')), 'prices.json');
  writeFileSync(path, JSON.stringify(content));
  return path;
}

describe('resolveCost', () => {
  it('prefers a provider-reported cost over the price table', () => {
    expect(resolveCost({ providerCostUsd: 0.0042, usage }, book)).toEqual({ cost_usd: 0.0042, cost_source: 'provider' });
  });

  it('keeps a provider-reported zero: a free call is a real measurement', () => {
    expect(resolveCost({ providerCostUsd: 0, usage }, book)).toEqual({ cost_usd: 0, cost_source: 'provider' });
  });

  it('uses the price table without a provider cost', () => {
    const resolved = resolveCost({ usage }, book);
    expect(resolved.cost_source).toBe('price_table');
    expect(resolved.cost_usd).toBeCloseTo(tableCost, 12);
  });

  it.each([[-1], [Number.NaN], [Number.POSITIVE_INFINITY], [null]])(
    'ignores an invalid provider cost (%s) and falls back to the table',
    (providerCostUsd) => {
      const resolved = resolveCost({ providerCostUsd, usage }, book);
      expect(resolved.cost_source).toBe('price_table');
      expect(resolved.cost_usd).toBeCloseTo(tableCost, 12);
    },
  );

  it('gives an unknown cost, not zero, for an unknown model without a provider cost', () => {
    expect(resolveCost({ usage: { ...usage, model: 'my-local-llama' } }, book)).toEqual({ cost_usd: null, cost_source: null });
  });

  it('gives an unknown cost without usage or a provider cost', () => {
    expect(resolveCost({}, book)).toEqual({ cost_usd: null, cost_source: null });
    expect(resolveCost({ providerCostUsd: null, usage: null }, book)).toEqual({ cost_usd: null, cost_source: null });
  });
});

describe('priceBookFromEnv', () => {
  it('reads the file named by FLOWMETER_PRICES', () => {
    const file = priceFile({ models: { 'house-model': { input: 1, output: 1 } } });
    const fromEnv = priceBookFromEnv({ FLOWMETER_PRICES: file });
    expect(fromEnv.priceFor('house-model')?.key).toBe('house-model');
    expect(fromEnv.priceFor('gpt-4o')?.key).toBe('gpt-4o');
  });

  it('uses the defaults when the variable is unset or empty', () => {
    expect(priceBookFromEnv({}).priceFor('house-model')).toBeNull();
    expect(priceBookFromEnv({ FLOWMETER_PRICES: '  ' }).priceFor('gpt-4o')?.key).toBe('gpt-4o');
  });

  it('lets a file given in code win over the variable', () => {
    const fromCode = priceFile({ models: { 'code-model': { input: 1, output: 1 } } });
    const fromEnv = priceFile({ models: { 'env-model': { input: 1, output: 1 } } });
    const chosen = priceBookFromEnv({ FLOWMETER_PRICES: fromEnv }, { file: fromCode });
    expect(chosen.priceFor('code-model')).not.toBeNull();
    expect(chosen.priceFor('env-model')).toBeNull();
  });

  it('passes the other options through', () => {
    const file = priceFile({ models: { 'env-model': { input: 1, output: 1 } } });
    const chosen = priceBookFromEnv({ FLOWMETER_PRICES: file }, { replaceDefaults: true });
    expect(chosen.entries().map((e) => e.key)).toEqual(['env-model']);
  });

  it('says the path came from FLOWMETER_PRICES when the file is missing', () => {
    const missing = join(tmpdir(), 'flowmeter-no-such-dir', 'prices.json');
    expect(() => priceBookFromEnv({ FLOWMETER_PRICES: missing })).toThrow(PricingConfigError);
    expect(() => priceBookFromEnv({ FLOWMETER_PRICES: missing })).toThrow(
      `${missing}: cannot read the price file (no such file); check the path (the path comes from FLOWMETER_PRICES)`,
    );
  });
});
