/**
 * How `qmem` finds what is relevant: plain word overlap, no embeddings, so a dry run needs
 * no model and a result can be explained by pointing at the shared words.
 *
 * A word is a run of letters or digits (any script), lower-cased, at least two characters
 * long, so "I", "a" and punctuation never make two entries look related. An entry's score
 * is the number of distinct query words it contains; entries sharing none are left out.
 * Higher scores come first, and among equal scores the newest entry; an entry whose text
 * equals a better-ranked one is left out, so a fact stored every run is returned once.
 */

/** How many entries one `qmem` returns. */
export const QUERY_LIMIT = 5;

export interface Entry {
  readonly value: string;
  /** The distinct words of `value`, computed once when it is stored. */
  readonly words: ReadonlySet<string>;
}

export function words(text: string): Set<string> {
  const found = new Set<string>();
  for (const match of text.toLowerCase().matchAll(/[\p{L}\p{N}]+/gu)) {
    if (match[0].length >= 2) found.add(match[0]);
  }
  return found;
}

/** Builds an entry, its words included. */
export function entry(value: string): Entry {
  return { value, words: words(value) };
}

/**
 * The best `limit` entries for `query`, best first. `entries` is oldest first, as stored;
 * an empty result means no entry shares a word with the query.
 */
export function rank<T extends Entry>(entries: readonly T[], query: string, limit: number = QUERY_LIMIT): T[] {
  const wanted = words(query);
  if (wanted.size === 0) return [];
  const scored: { readonly entry: T; readonly score: number }[] = [];
  // Newest first, so the stable sort below leaves ties newest first.
  for (let i = entries.length - 1; i >= 0; i--) {
    const candidate = entries[i];
    if (candidate === undefined) continue;
    let score = 0;
    for (const word of wanted) if (candidate.words.has(word)) score++;
    if (score > 0) scored.push({ entry: candidate, score });
  }
  scored.sort((a, b) => b.score - a.score);
  const best: T[] = [];
  const seen = new Set<string>();
  for (const { entry: e } of scored) {
    if (seen.has(e.value)) continue;
    seen.add(e.value);
    best.push(e);
    if (best.length === limit) break;
  }
  return best;
}
