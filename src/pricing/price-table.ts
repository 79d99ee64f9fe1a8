/**
 * The price of one model, in USD per 1 million tokens — the unit every provider
 * publishes, so a user can copy numbers from a pricing page without converting.
 */
export interface ModelPrice {
  /** Uncached input (prompt) tokens. */
  readonly input: number;
  /** Output (completion) tokens, reasoning tokens included: providers bill them as output. */
  readonly output: number;
  /** Input tokens served from the provider's prompt cache (a cache hit/read). Absent: charged as `input`. */
  readonly cached_input?: number;
  /** Input tokens written to the cache (Anthropic's cache creation). Absent: charged as `input`. */
  readonly cache_write?: number;
}

/**
 * When the list prices below were last checked against the providers' pricing pages.
 * Prices change (usually downwards, sometimes overnight): this table is a default, not
 * a source of truth. Users override or extend it with a JSON file (`FLOWMETER_PRICES`)
 * or with `new PriceBook({ models })`, and a provider-reported cost always wins over it.
 */
export const PRICES_AS_OF = '2025-11-24';

/*
 * Keys are the names providers use without date or version suffixes; the matcher finds
 * `gpt-4o` in `openai/gpt-4o-2024-08-06` and `claude-sonnet-4-5` in
 * `anthropic.claude-sonnet-4-5-20250929-v1:0`. A dated key (`gpt-4o-2024-05-13`) is
 * longer, so it wins over its family where the snapshot had a different price.
 *
 * Only the standard tier of each model is listed. Batch discounts, priority tiers and
 * long-context surcharges (Gemini 2.5 Pro above 200k prompt tokens, Claude Sonnet above
 * 200k with the 1M-context beta) are not modelled: a user who relies on them overrides
 * the entry.
 */
const table: Record<string, ModelPrice> = {
  // OpenAI: cached input is the automatic prompt-caching price; there is no write surcharge.
  'gpt-5': { input: 1.25, output: 10.0, cached_input: 0.125 },
  'gpt-5-mini': { input: 0.25, output: 2.0, cached_input: 0.025 },
  'gpt-5-nano': { input: 0.05, output: 0.4, cached_input: 0.005 },
  'gpt-5-pro': { input: 15.0, output: 120.0 },
  'gpt-4.1': { input: 2.0, output: 8.0, cached_input: 0.5 },
  'gpt-4.1-mini': { input: 0.4, output: 1.6, cached_input: 0.1 },
  'gpt-4.1-nano': { input: 0.1, output: 0.4, cached_input: 0.025 },
  'gpt-4o': { input: 2.5, output: 10.0, cached_input: 1.25 },
  // The first gpt-4o snapshot kept its launch price.
  'gpt-4o-2024-05-13': { input: 5.0, output: 15.0 },
  'chatgpt-4o-latest': { input: 5.0, output: 15.0 },
  'gpt-4o-mini': { input: 0.15, output: 0.6, cached_input: 0.075 },
  o1: { input: 15.0, output: 60.0, cached_input: 7.5 },
  'o1-mini': { input: 1.1, output: 4.4, cached_input: 0.55 },
  'o1-pro': { input: 150.0, output: 600.0 },
  o3: { input: 2.0, output: 8.0, cached_input: 0.5 },
  'o3-mini': { input: 1.1, output: 4.4, cached_input: 0.55 },
  'o3-pro': { input: 20.0, output: 80.0 },
  'o4-mini': { input: 1.1, output: 4.4, cached_input: 0.275 },
  'gpt-4-turbo': { input: 10.0, output: 30.0 },
  // The turbo previews carry `gpt-4-` names but turbo prices.
  'gpt-4-1106-preview': { input: 10.0, output: 30.0 },
  'gpt-4-0125-preview': { input: 10.0, output: 30.0 },
  'gpt-4': { input: 30.0, output: 60.0 },
  'gpt-4-32k': { input: 60.0, output: 120.0 },
  'gpt-3.5-turbo': { input: 0.5, output: 1.5 },
  // Azure OpenAI spells the model without the dot.
  'gpt-35-turbo': { input: 0.5, output: 1.5 },

  // Anthropic: cache read is 0.1x input, a 5-minute cache write 1.25x input.
  'claude-opus-4-5': { input: 5.0, output: 25.0, cached_input: 0.5, cache_write: 6.25 },
  'claude-opus-4-1': { input: 15.0, output: 75.0, cached_input: 1.5, cache_write: 18.75 },
  'claude-opus-4': { input: 15.0, output: 75.0, cached_input: 1.5, cache_write: 18.75 },
  'claude-sonnet-4-5': { input: 3.0, output: 15.0, cached_input: 0.3, cache_write: 3.75 },
  'claude-sonnet-4': { input: 3.0, output: 15.0, cached_input: 0.3, cache_write: 3.75 },
  'claude-3-7-sonnet': { input: 3.0, output: 15.0, cached_input: 0.3, cache_write: 3.75 },
  'claude-3-5-sonnet': { input: 3.0, output: 15.0, cached_input: 0.3, cache_write: 3.75 },
  'claude-haiku-4-5': { input: 1.0, output: 5.0, cached_input: 0.1, cache_write: 1.25 },
  'claude-3-5-haiku': { input: 0.8, output: 4.0, cached_input: 0.08, cache_write: 1.0 },
  'claude-3-opus': { input: 15.0, output: 75.0, cached_input: 1.5, cache_write: 18.75 },
  'claude-3-haiku': { input: 0.25, output: 1.25, cached_input: 0.03, cache_write: 0.3 },

  // Google (paid tier, prompts up to 200k tokens). Context-cache storage is billed per
  // hour, not per token, so there is no cache_write entry.
  'gemini-3-pro-preview': { input: 2.0, output: 12.0, cached_input: 0.2 },
  'gemini-2.5-pro': { input: 1.25, output: 10.0, cached_input: 0.125 },
  'gemini-2.5-flash': { input: 0.3, output: 2.5, cached_input: 0.03 },
  'gemini-2.5-flash-lite': { input: 0.1, output: 0.4, cached_input: 0.01 },
  'gemini-2.0-flash': { input: 0.1, output: 0.4, cached_input: 0.025 },
  'gemini-2.0-flash-lite': { input: 0.075, output: 0.3 },

  // DeepSeek API (V3.2 pricing, the same for both endpoints); cached = cache hit.
  'deepseek-chat': { input: 0.28, output: 0.42, cached_input: 0.028 },
  'deepseek-reasoner': { input: 0.28, output: 0.42, cached_input: 0.028 },

  // Mistral La Plateforme.
  'mistral-large': { input: 2.0, output: 6.0 },
  'mistral-medium': { input: 0.4, output: 2.0 },
  'mistral-small': { input: 0.1, output: 0.3 },

  // Open-weight Llama has no single list price; these are Together AI's serverless
  // prices. Groq, Bedrock and others differ: override for your host.
  'llama-3.1-8b': { input: 0.18, output: 0.18 },
  'llama-3.1-70b': { input: 0.88, output: 0.88 },
  'llama-3.1-405b': { input: 3.5, output: 3.5 },
  'llama-3.3-70b': { input: 0.88, output: 0.88 },
};

/** The built-in list prices, USD per 1M tokens, as of {@link PRICES_AS_OF}. Frozen. */
export const DEFAULT_PRICES: Readonly<Record<string, ModelPrice>> = Object.freeze(
  Object.fromEntries(Object.entries(table).map(([key, price]) => [key, Object.freeze({ ...price })])),
);
