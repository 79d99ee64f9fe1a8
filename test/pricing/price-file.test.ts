import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, expect } from 'vitest';
import { PriceBook, PricingConfigError } from '../../src/pricing/index.js';

const dir = mkdtempSync(join(tmpdir(), 'flowmeter-bad-prices-'));
let counter = 0;

function rawFile(text: string): string {
  const path = join(dir, `prices-${counter++}.json`);
  writeFileSync(path, text);
  return path;
}

/** Builds a book from `options` and returns the PricingConfigError it throws. */
function configError(options: ConstructorParameters<typeof PriceBook>[0]): PricingConfigError {
  try {
    new PriceBook(options);
  } catch (error) {
    expect(error).toBeInstanceOf(PricingConfigError);
    return error as PricingConfigError;
  }
  throw new Error('expected a PricingConfigError');
}

function expectReadable(message: string): void {
  // One line a person can act on, not a zod dump.
  expect(message).not.toContain('\n');
  expect(message).not.toMatch(/"code"\s*:|ZodError|invalid_type|\bat .+:\d+:\d+/);
}

describe('a bad price file', () => {
  it.each([
    ['a negative price', { models: { x: { input: -1, output: 2 } } }, 'models["x"].input must be a non-negative number (USD per 1M tokens)'],
    ['a price given as a string', { models: { x: { input: '1.0', output: 2 } } }, 'models["x"].input must be a non-negative number (USD per 1M tokens)'],
    ['a missing output price', { models: { x: { input: 1 } } }, 'models["x"].output is missing; give the price in USD per 1M tokens'],
    ['a negative cache-write price', { models: { x: { input: 1, output: 2, cache_write: -0.5 } } }, 'models["x"].cache_write must be a non-negative number'],
    ['an unknown field', { models: { x: { input: 1, output: 2, cache_read: 0.1 } } }, 'models["x"] has unknown field "cache_read"; the fields are input, output, cached_input, cache_write'],
    ['an entry that is not an object', { models: { x: 3 } }, 'models["x"] must be an object with "input" and "output" prices'],
    ['models that is not an object', { models: [] }, '"models" must be an object mapping model names to prices'],
    ['no models key', { model: {} }, '"models" must be an object mapping model names to prices'],
    ['a top level that is not an object', [1, 2], 'expected a JSON object like {"models"'],
    ['an empty model name', { models: { '': { input: 1, output: 1 } } }, 'models[""]: a model name cannot be empty'],
    ['two spellings of one model', { models: { 'gpt-4.1': { input: 1, output: 1 }, 'gpt-4-1': { input: 2, output: 2 } } }, 'models["gpt-4.1"] and models["gpt-4-1"] name the same model; keep one'],
  ])('throws PricingConfigError for %s, naming the file and the key', (_, content, expected) => {
    const file = rawFile(JSON.stringify(content));
    const error = configError({ file });
    expect(error.message).toContain(`${file}: `);
    expect(error.message).toContain(expected);
    expectReadable(error.message);
  });

  it('throws PricingConfigError for a file that is not JSON', () => {
    const file = rawFile('{ "models": { "x": { input: 1 } } }');
    const error = configError({ file });
    expect(error.message).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not valid JSON \\(.+\\); expected \\{"models"`));
    expectReadable(error.message);
  });

  it('throws PricingConfigError for an empty file', () => {
    const error = configError({ file: rawFile('') });
    expect(error.message).toContain('not valid JSON');
  });

  it('throws PricingConfigError for a missing file, saying so', () => {
    const file = join(dir, 'does-not-exist.json');
    const error = configError({ file });
    expect(error.message).toBe(`${file}: cannot read the price file (no such file); check the path`);
  });

  it('throws PricingConfigError for a directory', () => {
    const error = configError({ file: dir });
    expect(error.message).toBe(`${dir}: cannot read the price file (it is a directory); check the path`);
  });

  it('reports several problems at once, and says how many it left out', () => {
    const models = Object.fromEntries(['a', 'b', 'c', 'd', 'e'].map((k) => [k, { input: -1, output: 1 }]));
    const error = configError({ file: rawFile(JSON.stringify({ models })) });
    expect(error.message).toContain('models["a"].input');
    expect(error.message).toContain('models["c"].input');
    expect(error.message).not.toContain('models["d"]');
    expect(error.message).toContain('(and 2 more)');
  });

  it('accepts unknown top-level keys such as a note', () => {
    const file = rawFile(JSON.stringify({ note: 'negotiated rates', models: { x: { input: 1, output: 1 } } }));
    expect(new PriceBook({ file }).priceFor('x')?.key).toBe('x');
  });
});

describe('bad prices given in code', () => {
  it.each([
    ['an infinite price', { input: Number.POSITIVE_INFINITY, output: 1 }],
    ['a NaN price', { input: 1, output: Number.NaN }],
    ['a negative cached price', { input: 1, output: 1, cached_input: -1 }],
  ])('throws PricingConfigError for %s', (_, price) => {
    const error = configError({ models: { x: price } });
    expect(error.message).toMatch(/^options\.models: models\["x"\]\.\w+ must be a non-negative number \(USD per 1M tokens\)$/);
  });
});
