/**
 * A user's price for one model, in USD per 1 million tokens — the unit every provider
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
