import { ModelMatcher, normalizeModelName } from './matcher.js';
import { PricingConfigError, readPriceFile, validateModels } from './price-file.js';
import { DEFAULT_PRICES } from './price-table.js';
import type { ModelPrice } from './price-table.js';

/** A price together with the table key it was found under (`gpt-4o` for `openai/gpt-4o-2024-08-06`). */
export type PriceEntry = Readonly<ModelPrice & { key: string }>;

export interface PriceBookOptions {
  /** Prices given in code. They win over the file and the defaults. */
  readonly models?: Readonly<Record<string, ModelPrice>>;
  /** Path of a JSON price file, `{ "models": { … } }`. It wins over the defaults. */
  readonly file?: string;
  /** Start from an empty table instead of {@link DEFAULT_PRICES}. */
  readonly replaceDefaults?: boolean;
}

/**
 * Token counts of one LLM call. `inputTokens` counts ALL input tokens, cache reads and
 * cache writes included — OpenAI's `prompt_tokens` convention. (Anthropic reports
 * `input_tokens` without its cache tokens: add them before calling.)
 */
export interface TokenUsage {
  readonly model: string;
  readonly inputTokens: number;
  readonly outputTokens: number;
  /** Of `inputTokens`, how many were served from the prompt cache. */
  readonly cachedInputTokens?: number;
  /** Of `inputTokens`, how many were written to the prompt cache. */
  readonly cacheWriteTokens?: number;
}

const PER_TOKEN = 1 / 1_000_000;

const NOT_ASKED: unique symbol = Symbol('not asked');

function isCount(value: number): boolean {
  return Number.isFinite(value) && value >= 0;
}

/**
 * Model prices with name matching: the defaults, then a user file, then prices given in
 * code, each layer overriding the one before by model name (`gpt-4.1` and `gpt-4-1` are
 * the same name). Configuration errors throw {@link PricingConfigError} here, at
 * construction; the per-call methods never throw.
 */
export class PriceBook {
  private readonly byKey = new Map<string, PriceEntry>();
  private readonly matcher: ModelMatcher;
  /** The last name `priceFor` answered, and its answer (the table never changes after construction). */
  private lastModel: string | typeof NOT_ASKED = NOT_ASKED;
  private lastPrice: PriceEntry | null = null;

  constructor(options: PriceBookOptions = {}) {
    // Layers, weakest first. Keyed by normalized name so an override spelled
    // differently from the default (`GPT-4o`) replaces it instead of sitting beside it.
    const merged = new Map<string, PriceEntry>();
    const layer = (models: Readonly<Record<string, ModelPrice>>): void => {
      for (const [key, price] of Object.entries(models)) {
        merged.set(normalizeModelName(key), Object.freeze({ ...price, key }));
      }
    };
    if (options.replaceDefaults !== true) layer(DEFAULT_PRICES);
    if (options.file !== undefined) layer(readPriceFile(options.file));
    if (options.models !== undefined) layer(validateModels('options.models', options.models));

    for (const entry of merged.values()) this.byKey.set(entry.key, entry);
    this.matcher = new ModelMatcher(this.byKey.keys());
  }

  /** The price for a model name as a provider or router spells it, or null when unknown. */
  priceFor(model: string): PriceEntry | null {
    // A workload names the same model call after call: the last answer is one comparison away.
    if (model === this.lastModel) return this.lastPrice;
    const key = this.matcher.match(model);
    const price = key === null ? null : (this.byKey.get(key) ?? null);
    this.lastModel = model;
    this.lastPrice = price;
    return price;
  }

  /**
   * The cost in USD of one call, or null when it cannot be known: the model is not in the
   * table, or the usage is inconsistent (negative or non-finite counts, cached plus
   * cache-write tokens above the input total). Never a made-up 0.
   */
  cost(usage: TokenUsage): number | null {
    return this.estimate(usage.model, usage.inputTokens, usage.outputTokens, usage.cachedInputTokens, usage.cacheWriteTokens);
  }

  /** `cost` from the counts themselves: the meter prices every call without building a usage object for it. */
  estimate(model: string, inputTokens: number, outputTokens: number, cachedInputTokens?: number, cacheWriteTokens?: number): number | null {
    const price = this.priceFor(model);
    if (price === null) return null;
    const cached = cachedInputTokens ?? 0;
    const written = cacheWriteTokens ?? 0;
    if (!(isCount(inputTokens) && isCount(outputTokens) && isCount(cached) && isCount(written))) return null;
    const uncached = inputTokens - cached - written;
    if (uncached < 0) return null;
    return (
      (uncached * price.input +
        cached * (price.cached_input ?? price.input) +
        written * (price.cache_write ?? price.input) +
        outputTokens * price.output) *
      PER_TOKEN
    );
  }

  /** Every entry, in table order: for listing prices (`flowmeter prices`) and for tests. */
  entries(): readonly PriceEntry[] {
    return [...this.byKey.values()];
  }
}

export interface CostInput {
  /** The cost the provider or router reported for the call (OpenRouter's `usage.cost`), if any. */
  readonly providerCostUsd?: number | null;
  readonly usage?: TokenUsage | null;
}

export interface ResolvedCost {
  readonly cost_usd: number | null;
  readonly cost_source: 'provider' | 'price_table' | null;
}

export const UNKNOWN_COST: ResolvedCost = Object.freeze({ cost_usd: null, cost_source: null });

/** A cost the provider reported is trusted when it is a finite, non-negative number (a free call is a real 0). */
export function isReportedCost(usd: unknown): usd is number {
  return typeof usd === 'number' && Number.isFinite(usd) && usd >= 0;
}

/**
 * The cost of one call for an `llm_call` event. A provider-reported cost is what was
 * actually billed, so a valid one (finite, >= 0) wins over the table's estimate; an
 * invalid one is ignored rather than trusted.
 */
export function resolveCost(input: CostInput, book: PriceBook): ResolvedCost {
  const reported = input.providerCostUsd;
  if (isReportedCost(reported)) return { cost_usd: reported, cost_source: 'provider' };
  if (input.usage === undefined || input.usage === null) return UNKNOWN_COST;
  const estimated = book.cost(input.usage);
  return estimated === null ? UNKNOWN_COST : { cost_usd: estimated, cost_source: 'price_table' };
}

/** The environment variable that names a user price file. */
export const PRICES_ENV = 'FLOWMETER_PRICES';

/**
 * A PriceBook that honours `FLOWMETER_PRICES` (a path to a price file). A `file` given in
 * `options` wins over the variable, as code wins over the environment. An empty variable
 * counts as unset.
 */
export function priceBookFromEnv(
  env: Readonly<Record<string, string | undefined>> = process.env,
  options: PriceBookOptions = {},
): PriceBook {
  const fromEnv = env[PRICES_ENV]?.trim();
  if (options.file !== undefined || fromEnv === undefined || fromEnv === '') return new PriceBook(options);
  try {
    return new PriceBook({ ...options, file: fromEnv });
  } catch (error) {
    // Say where the path came from: the user may not remember setting the variable.
    if (error instanceof PricingConfigError) {
      throw new PricingConfigError(`${error.message} (the path comes from ${PRICES_ENV})`, { cause: error });
    }
    throw error;
  }
}
