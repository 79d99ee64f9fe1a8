/**
 * Finds which price-table key a model name refers to, however a provider or router
 * spells it: `openai/gpt-4o-2024-08-06`, `anthropic/claude-sonnet-4.5`,
 * `anthropic.claude-3-5-sonnet-20240620-v1:0` (Bedrock), `claude-3-5-sonnet@20240620`
 * (Vertex), `GPT-4o`.
 */

/**
 * Characters that separate the parts of a model name: router prefixes (`openai/`),
 * Bedrock vendors (`anthropic.`), dates and versions (`-2024-08-06`, `:0`), Vertex
 * snapshots (`@20240620`). A key only matches between two of these (or the ends), so
 * `gpt-4` is not found in `gpt-4o` or `gpt-40`.
 */
const BOUNDARY = new Set(['/', '.', '-', ':', '@', '_']);

/**
 * Past this many distinct names the matcher stops caching new ones. Real deployments
 * use a handful of models; the cap only matters when model names come from untrusted
 * input (the proxy), where an unbounded cache would be a memory leak.
 */
const MAX_CACHED_NAMES = 1024;

/**
 * Lowercases and turns a dot between digits into `-`, so the version styles
 * `claude-sonnet-4.5` (OpenRouter) and `claude-sonnet-4-5` (Anthropic) compare equal.
 * Other dots stay: they are separators, as in Bedrock's `anthropic.claude-…`.
 */
export function normalizeModelName(name: string): string {
  return name.trim().toLowerCase().replace(/(\d)\.(?=\d)/g, '$1-');
}

function isBoundary(text: string, index: number): boolean {
  if (index < 0 || index >= text.length) return true;
  return BOUNDARY.has(text.charAt(index));
}

/** True when `key` occurs in `name` with a separator (or an end of the name) on both sides. */
function occursBetweenBoundaries(name: string, key: string): boolean {
  for (let at = name.indexOf(key); at !== -1; at = name.indexOf(key, at + 1)) {
    if (isBoundary(name, at - 1) && isBoundary(name, at + key.length)) return true;
  }
  return false;
}

/**
 * Matches model names against a fixed set of table keys. The longest key that occurs in
 * the name at separator boundaries wins, so `gpt-4o-mini-2024-07-18` finds `gpt-4o-mini`
 * rather than `gpt-4o`, and `claude-opus-4-5-20251101` finds `claude-opus-4-5` rather
 * than `claude-opus-4`. Results are cached per name: matching runs once per LLM call,
 * and a workload repeats the same few names.
 */
export class ModelMatcher {
  /** [normalized key, original key], longest first; ties in a fixed (sorted) order. */
  private readonly keys: readonly (readonly [string, string])[];
  private readonly cache = new Map<string, string | null>();

  /** Keys whose normalized forms collide are the caller's concern; the first one given wins. */
  constructor(keys: Iterable<string>) {
    const byNormalized = new Map<string, string>();
    for (const key of keys) {
      const normalized = normalizeModelName(key);
      if (normalized !== '' && !byNormalized.has(normalized)) byNormalized.set(normalized, key);
    }
    this.keys = [...byNormalized.entries()].sort(
      ([a], [b]) => b.length - a.length || (a < b ? -1 : a > b ? 1 : 0),
    );
  }

  /** The table key `model` refers to, or null when no key matches. */
  match(model: string): string | null {
    const cached = this.cache.get(model);
    if (cached !== undefined) return cached;
    const found = this.search(normalizeModelName(model));
    if (this.cache.size < MAX_CACHED_NAMES) this.cache.set(model, found);
    return found;
  }

  private search(name: string): string | null {
    if (name === '') return null;
    for (const [normalized, original] of this.keys) {
      if (normalized.length > name.length) continue;
      if (occursBetweenBoundaries(name, normalized)) return original;
    }
    return null;
  }
}
