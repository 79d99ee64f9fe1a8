import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { normalizeModelName } from './matcher.js';
import type { ModelPrice } from './model-price.js';

/**
 * A mistake in user-supplied prices: an unreadable file, bad JSON, a missing or negative
 * price. Thrown once, when the PriceBook is built, with a message that names the file,
 * the key and the fix — never at recording time, where a wrong price would silently
 * turn into wrong costs.
 */
export class PricingConfigError extends Error {
  override readonly name = 'PricingConfigError';
}

const FIELDS = ['input', 'output', 'cached_input', 'cache_write'] as const;

const EXAMPLE = '{"models": {"my-model": {"input": 1.0, "output": 2.0}}}';

const price = z.number().finite().nonnegative();

// Strict, so a typo such as `cache_read` is reported instead of silently charging `input`.
const modelPriceSchema = z
  .object({ input: price, output: price, cached_input: price.optional(), cache_write: price.optional() })
  .strict();

const modelsSchema = z.record(z.string(), modelPriceSchema);

// The top level is not strict: unknown keys (a `$schema`, a note) are harmless, and a
// misspelt `models` is still caught because `models` is required.
const priceFileSchema = z.object({ models: modelsSchema });

function keyPath(key: string | number | undefined): string {
  return `models[${JSON.stringify(String(key))}]`;
}

/** Turns one zod issue into a sentence that says where the problem is and what to write instead. */
function describeIssue(issue: z.ZodIssue): string {
  const [top, key, field] = issue.path;
  if (top === undefined) return `expected a JSON object like ${EXAMPLE}`;
  if (key === undefined) return `"models" must be an object mapping model names to prices, like ${EXAMPLE}`;
  if (field === undefined) {
    if (issue.code === z.ZodIssueCode.unrecognized_keys) {
      const names = issue.keys.map((k) => JSON.stringify(k)).join(', ');
      return `${keyPath(key)} has unknown field ${names}; the fields are ${FIELDS.join(', ')}`;
    }
    return `${keyPath(key)} must be an object with "input" and "output" prices (USD per 1M tokens)`;
  }
  const where = `${keyPath(key)}.${String(field)}`;
  if (issue.code === z.ZodIssueCode.invalid_type && issue.received === 'undefined') {
    return `${where} is missing; give the price in USD per 1M tokens`;
  }
  return `${where} must be a non-negative number (USD per 1M tokens)`;
}

function fail(source: string, problems: readonly string[]): never {
  // Show a few problems at once so the user can fix them in one pass, but keep it short.
  const shown = problems.slice(0, 3).join('; ');
  const more = problems.length > 3 ? ` (and ${problems.length - 3} more)` : '';
  throw new PricingConfigError(`${source}: ${shown}${more}`);
}

/** Rejects empty names and two spellings of one model (`gpt-4.1` and `gpt-4-1`) in one source. */
function checkNames(source: string, models: Record<string, ModelPrice>): void {
  const seen = new Map<string, string>();
  const problems: string[] = [];
  for (const key of Object.keys(models)) {
    const normalized = normalizeModelName(key);
    if (normalized === '') {
      problems.push(`${keyPath(key)}: a model name cannot be empty`);
      continue;
    }
    const other = seen.get(normalized);
    if (other !== undefined) problems.push(`${keyPath(other)} and ${keyPath(key)} name the same model; keep one`);
    else seen.set(normalized, key);
  }
  if (problems.length > 0) fail(source, problems);
}

/**
 * Validates a `models` map given in code (`new PriceBook({ models })`). `source` names
 * where it came from in error messages.
 */
export function validateModels(source: string, value: unknown): Record<string, ModelPrice> {
  const parsed = z.object({ models: modelsSchema }).safeParse({ models: value });
  if (!parsed.success) fail(source, parsed.error.issues.map(describeIssue));
  checkNames(source, parsed.data.models);
  return parsed.data.models;
}

/** Reads and validates a price file: `{ "models": { "<name>": { "input": …, "output": … } } }`. */
export function readPriceFile(path: string): Record<string, ModelPrice> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'it is a directory'
          : code === 'EACCES'
            ? 'permission denied'
            : (code ?? 'unreadable');
    throw new PricingConfigError(`${path}: cannot read the price file (${why}); check the path`);
  }

  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new PricingConfigError(`${path}: not valid JSON (${detail}); expected ${EXAMPLE}`);
  }

  const parsed = priceFileSchema.safeParse(json);
  if (!parsed.success) fail(path, parsed.error.issues.map(describeIssue));
  checkNames(path, parsed.data.models);
  return parsed.data.models;
}
