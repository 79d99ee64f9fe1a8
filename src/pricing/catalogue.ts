import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { calcPrice } from '@pydantic/genai-prices';
import { normalizeModelName } from './matcher.js';

/**
 * A price in USD per 1M tokens: flat, or tiered by the call's input tokens. Tiered prices
 * are how Anthropic and Google charge long contexts: once a prompt passes a tier's
 * `start` (200k tokens for Claude Sonnet 4.5 and Gemini 2.5 Pro), every token of the call
 * is charged that tier's price, input and output alike.
 */
export type Rate = number | { readonly base: number; readonly tiers: readonly { readonly start: number; readonly price: number }[] };

/** What the catalogue knows of one model: where it was found and its per-token rates. */
export interface CatalogueMatch {
  /** The catalogue's provider id (`openai`, `anthropic`, `google`, …). */
  readonly provider: string;
  /** The catalogue's model id the name matched (`gpt-4o` for `openai/gpt-4o-2024-08-06`). */
  readonly model: string;
  /** The spelling that matched, after router prefixes and Bedrock decorations came off. */
  readonly matchedAs: string;
  readonly input: Rate;
  readonly output: Rate;
  readonly cached_input?: Rate;
  readonly cache_write?: Rate;
}

/** The rate that applies to a call with `inputTokens` input tokens. */
export function rateAt(rate: Rate, inputTokens: number): number {
  if (typeof rate === 'number') return rate;
  let price = rate.base;
  for (const tier of rate.tiers) if (inputTokens > tier.start) price = tier.price;
  return price;
}

/** The version of the bundled price data (the npm package's), shown by `flowmeter prices`. */
export const CATALOGUE_VERSION: string = (() => {
  try {
    // The package exports no ./package.json; it sits beside dist/.
    const entry = createRequire(import.meta.url).resolve('@pydantic/genai-prices');
    return (JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
})();

/** Past this many names the catalogue stops caching new ones (names may come from untrusted input, as in the matcher). */
const MAX_CACHED_NAMES = 1024;
/**
 * A name's rates are looked up again after this long: some catalogue prices depend on the
 * date (a price change announced ahead) or the time of day (DeepSeek's off-peak hours).
 */
const REFRESH_MS = 60_000;

/**
 * Spellings to try for a name, most specific first: as given; without a router prefix
 * (`openai/gpt-4o` → `gpt-4o`) or OpenRouter variant (`:thinking`); without Bedrock's
 * region, vendor and version (`us.anthropic.claude-3-7-sonnet-20250219-v1:0` →
 * `claude-3-7-sonnet-20250219`); and with a version's dot as a dash (`4.5` → `4-5`).
 */
export function candidateNames(model: string): string[] {
  const names: string[] = [];
  const add = (name: string): void => {
    const n = name.trim();
    if (n !== '' && !names.includes(n)) names.push(n);
  };
  const given = model.trim();
  add(given);
  let bare = given.slice(given.lastIndexOf('/') + 1);
  add(bare);
  bare = bare.replace(/:[a-z][a-z0-9-]*$/i, '');
  add(bare);
  const bedrock = bare.replace(/^(?:[a-z]+\.)+(?=[a-z])/i, '').replace(/-v\d+(?::\d+)?$/i, '').replace(/:\d+$/, '');
  add(bedrock);
  for (const name of [...names]) add(normalizeModelName(name));
  return names;
}

type Prices = Readonly<Record<string, unknown>>;

function rateOf(value: unknown): Rate | undefined {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value;
  if (typeof value !== 'object' || value === null) return undefined;
  const { base, tiers } = value as { base?: unknown; tiers?: unknown };
  if (typeof base !== 'number' || !Array.isArray(tiers)) return undefined;
  const clean = tiers
    .filter((t): t is { start: number; price: number } => typeof t === 'object' && t !== null && typeof (t as { start?: unknown }).start === 'number' && typeof (t as { price?: unknown }).price === 'number')
    .map((t) => ({ start: t.start, price: t.price }))
    .sort((a, b) => a.start - b.start);
  return { base, tiers: clean };
}

/**
 * The maintained price catalogue of `@pydantic/genai-prices` (hundreds of models, tiered
 * and cached-token prices, bundled with the package so no network is needed), behind our
 * name handling. The library's own lookup costs about 100 µs, too much for every LLM
 * call, so a name is resolved once and its rates kept (refreshed every minute); the cost
 * of a call is then a few multiplications (PriceBook.estimate).
 */
export class Catalogue {
  private readonly cache = new Map<string, { readonly match: CatalogueMatch | null; readonly until: number; uses: number }>();

  /**
   * The rates for `model`, or null when the catalogue does not know it. `provider` (the
   * host that served the call: `together`, `groq`, `openrouter`, …) is tried first, since
   * open-weight models cost what their host charges; then any provider.
   */
  find(model: string, provider?: string | null, at?: number): CatalogueMatch | null {
    const key = provider === undefined || provider === null ? model : `${provider}\u0000${model}`;
    const cached = this.cache.get(key);
    // The clock is read on every 256th use of an entry only: it costs more than the lookup.
    if (cached !== undefined && ((++cached.uses & 255) !== 0 || cached.until > (at ?? Date.now()))) return cached.match;
    const now = at ?? Date.now();
    const names = candidateNames(model);
    const hinted = provider === undefined || provider === null || provider === '' || provider === 'unknown' ? null : this.lookup(names, provider, now);
    const match = hinted ?? this.lookup(names, undefined, now);
    if (this.cache.size < MAX_CACHED_NAMES || cached !== undefined) this.cache.set(key, { match, until: now + REFRESH_MS, uses: 0 });
    return match;
  }

  private lookup(names: readonly string[], providerId: string | undefined, now: number): CatalogueMatch | null {
    for (const name of names) {
      let found: ReturnType<typeof calcPrice>;
      try {
        found = calcPrice({ input_tokens: 0, output_tokens: 0 }, name, { timestamp: new Date(now), ...(providerId !== undefined && { providerId }) });
      } catch {
        continue;
      }
      if (found === null) continue;
      const prices = found.model_price as Prices;
      const input = rateOf(prices.input_mtok);
      const output = rateOf(prices.output_mtok);
      // A model priced by something other than tokens (per request, per image) is not one we can price.
      if (input === undefined || output === undefined) continue;
      const cached = rateOf(prices.cache_read_mtok);
      const write = rateOf(prices.cache_write_mtok);
      return {
        provider: found.provider.id,
        model: found.model.id,
        matchedAs: name,
        input,
        output,
        ...(cached !== undefined && { cached_input: cached }),
        ...(write !== undefined && { cache_write: write }),
      };
    }
    return null;
  }
}
