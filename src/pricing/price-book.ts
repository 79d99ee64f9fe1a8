import { Catalogue, rateAt } from './catalogue.js';
import type { CatalogueMatch, Rate } from './catalogue.js';
import { ModelMatcher, normalizeModelName } from './matcher.js';
import { PricingConfigError, readPriceFile, validateModels } from './price-file.js';
import type { ModelPrice } from './model-price.js';

/**
 * What a model name resolved to: a user override (found under `key` by our matcher) or
 * an entry of the catalogue (`key` is the catalogue's model id, `provider` its provider).
 * Rates are USD per 1M tokens, tiered by input tokens for some catalogue models.
 */
export interface PriceEntry {
  readonly key: string;
  readonly source: 'override' | 'catalogue';
  /** The catalogue's provider id; null for an override. */
  readonly provider: string | null;
  readonly input: Rate;
  readonly output: Rate;
  /** Absent: cache reads are charged as input. */
  readonly cached_input?: Rate;
  /** Absent: cache writes are charged as input. */
  readonly cache_write?: Rate;
}

export interface PriceBookOptions {
  /** Prices given in code. They win over the file and the catalogue. */
  readonly models?: Readonly<Record<string, ModelPrice>>;
  /** Path of a JSON price file, `{ "models": { … } }`. It wins over the catalogue. */
  readonly file?: string;
  /** Price only what the file and `models` name: no catalogue. */
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
  /** The host that served the call, to price open-weight models at their host's rates. */
  readonly provider?: string;
}

const PER_TOKEN = 1 / 1_000_000;

const NOT_ASKED: unique symbol = Symbol('not asked');

function isCount(value: number): boolean {
  return Number.isFinite(value) && value >= 0;
}

/**
 * True when the catalogue's model id names `model` more closely than the override's key:
 * an override for `gpt-4o` prices `openai/gpt-4o-2024-08-06`, but not `gpt-4o-mini`, which
 * the catalogue knows by its own longer name (the matcher's longest-key rule, across both).
 */
function moreSpecific(model: string, catalogueId: string, overrideKey: string): boolean {
  return new ModelMatcher([catalogueId, overrideKey]).match(model) === catalogueId && normalizeModelName(catalogueId) !== normalizeModelName(overrideKey);
}

function fromCatalogue(match: CatalogueMatch): PriceEntry {
  return Object.freeze({ ...match, key: match.model, source: 'catalogue' as const });
}

/**
 * Model prices: user overrides given in code, then a user price file, then the maintained
 * catalogue of `@pydantic/genai-prices` (catalogue.ts). Overrides are found by our matcher
 * (the longest key between separators, so `openai/gpt-4o-2024-08-06` finds an override
 * for `gpt-4o`); the catalogue is asked with the same router and cloud spellings taken
 * apart. A model neither knows has no price, and its calls no cost (null, never 0).
 * Configuration errors throw {@link PricingConfigError} here, at construction; the
 * per-call methods never throw.
 */
export class PriceBook {
  private readonly byKey = new Map<string, PriceEntry>();
  private readonly matcher: ModelMatcher;
  private readonly catalogue: Catalogue | null;
  /** The last name (and provider) `priceFor` answered, and its answer. */
  private lastModel: string | typeof NOT_ASKED = NOT_ASKED;
  private lastProvider: string | undefined;
  private lastPrice: PriceEntry | null = null;
  private repeats = 0;

  constructor(options: PriceBookOptions = {}) {
    // Layers, weakest first. Keyed by normalized name so an override spelled differently
    // from another (`GPT-4o`) replaces it instead of sitting beside it.
    const merged = new Map<string, PriceEntry>();
    const layer = (models: Readonly<Record<string, ModelPrice>>): void => {
      for (const [key, price] of Object.entries(models)) {
        merged.set(normalizeModelName(key), Object.freeze({ ...price, key, source: 'override' as const, provider: null }));
      }
    };
    if (options.file !== undefined) layer(readPriceFile(options.file));
    if (options.models !== undefined) layer(validateModels('options.models', options.models));

    for (const entry of merged.values()) this.byKey.set(entry.key, entry);
    this.matcher = new ModelMatcher(this.byKey.keys());
    this.catalogue = options.replaceDefaults === true ? null : new Catalogue();
  }

  /** The price for a model name as a provider or router spells it, or null when nobody knows it. */
  priceFor(model: string, provider?: string): PriceEntry | null {
    // A workload names the same model call after call: the last answer is one comparison away.
    // Every 1024th repeat goes back to the catalogue, which refreshes its rates by the minute.
    if (model === this.lastModel && provider === this.lastProvider && (this.catalogue === null || (++this.repeats & 1023) !== 0)) return this.lastPrice;
    const key = typeof model === 'string' ? this.matcher.match(model) : null;
    const override = key === null ? null : (this.byKey.get(key) ?? null);
    const match = this.catalogue !== null && typeof model === 'string' ? this.catalogue.find(model, provider) : null;
    let price = override;
    if (match !== null && (override === null || moreSpecific(model, match.model, override.key))) price = this.entryOf(match);
    this.lastModel = model;
    this.lastProvider = provider;
    this.lastPrice = price;
    return price;
  }

  /** One entry per catalogue match (the catalogue caches its matches): no object per call. */
  private readonly entries_ = new WeakMap<CatalogueMatch, PriceEntry>();

  private entryOf(match: CatalogueMatch): PriceEntry {
    let entry = this.entries_.get(match);
    if (entry === undefined) this.entries_.set(match, (entry = fromCatalogue(match)));
    return entry;
  }

  /**
   * The cost in USD of one call, or null when it cannot be known: the model is not in the
   * table, or the usage is inconsistent (negative or non-finite counts, cached plus
   * cache-write tokens above the input total). Never a made-up 0.
   */
  cost(usage: TokenUsage): number | null {
    return this.estimate(usage.model, usage.inputTokens, usage.outputTokens, usage.cachedInputTokens, usage.cacheWriteTokens, usage.provider);
  }

  /** `cost` from the counts themselves: the meter prices every call without building a usage object for it. */
  estimate(model: string, inputTokens: number, outputTokens: number, cachedInputTokens?: number, cacheWriteTokens?: number, provider?: string): number | null {
    const price = this.priceFor(model, provider);
    if (price === null) return null;
    const cached = cachedInputTokens ?? 0;
    const written = cacheWriteTokens ?? 0;
    if (!(isCount(inputTokens) && isCount(outputTokens) && isCount(cached) && isCount(written))) return null;
    const uncached = inputTokens - cached - written;
    if (uncached < 0) return null;
    // Flat overrides are plain numbers: rateAt returns them as they are.
    const input = rateAt(price.input, inputTokens);
    return (
      (uncached * input +
        cached * (price.cached_input === undefined ? input : rateAt(price.cached_input, inputTokens)) +
        written * (price.cache_write === undefined ? input : rateAt(price.cache_write, inputTokens)) +
        outputTokens * rateAt(price.output, inputTokens)) *
      PER_TOKEN
    );
  }

  /** The user overrides, in the order given: for listing and for tests. */
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
