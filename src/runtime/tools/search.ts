/**
 * The built-in `search` tool, simulated: for dry runs, tests and the examples, never the
 * network. The results are derived from a hash of the query, so the same query always
 * gets the same hits, and every URL is under the example.com/.org/.net domains RFC 2606
 * reserves, so nothing in a transcript points at a real site. Register a real search tool
 * under the same name to replace it.
 */
import { callSeed, mulberry32 } from '../providers/random.js';
import { optionalInteger, requiredString } from './input.js';
import type { ToolInput } from './input.js';
import type { Tool } from './tool.js';

export interface SearchResult {
  readonly title: string;
  readonly url: string;
  readonly snippet: string;
}

export const SEARCH_DEFAULT_K = 3;
export const SEARCH_MAX_K = 10;

const DOMAINS = ['example.com', 'example.org', 'example.net', 'docs.example.com', 'wiki.example.org', 'forum.example.net'];
const KINDS = ['an overview', 'a practical guide', 'frequently asked questions', 'a discussion', 'reference notes', 'a case study', 'benchmarks', 'a tutorial'];
const OPENERS = ['This page explains', 'A short introduction to', 'Notes and examples on', 'Answers to common questions about', 'A worked example of', 'What practitioners say about'];

/** FNV-1a over the UTF-16 code units: small, stable across runs and platforms. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function pick<T>(items: readonly T[], random: () => number): T {
  return items[Math.floor(random() * items.length)] ?? (items[0] as T);
}

/** Up to six words of the query, for titles and URL slugs. */
function words(query: string): string[] {
  const found = query.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  return found.length > 0 ? found.slice(0, 6) : ['untitled'];
}

/**
 * `k` deterministic results for `query`. Case and spacing do not matter: "Rust  async" and
 * "rust async" are the same search, as they would be to a search engine.
 */
export function simulatedSearch(query: string, k: number = SEARCH_DEFAULT_K): SearchResult[] {
  const normalized = query.trim().replace(/\s+/g, ' ').toLowerCase();
  const seed = hashString(normalized);
  const topic = words(normalized);
  const title = topic.join(' ').replace(/^./, (c) => c.toUpperCase());
  const results: SearchResult[] = [];
  for (let i = 0; i < k; i++) {
    // One generator per rank, so result i is the same whatever k is.
    const random = mulberry32(callSeed(seed, i));
    const kind = pick(KINDS, random);
    const id = Math.floor(random() * 0xffffff).toString(16).padStart(6, '0');
    results.push({
      title: `${title}: ${kind}`,
      url: `https://${pick(DOMAINS, random)}/${topic.join('-')}-${id}`,
      snippet: `${pick(OPENERS, random)} ${normalized || 'this topic'}, with ${kind} and links to further reading.`,
    });
  }
  return results;
}

export const searchTool: Tool = {
  name: 'search',
  description: `Simulated web search for dry runs: { query, k? (1-${SEARCH_MAX_K}, default ${SEARCH_DEFAULT_K}) } → [{ title, url, snippet }], deterministic per query, no network.`,
  run(input: ToolInput): SearchResult[] {
    const query = requiredString('search', input, 'query');
    const k = optionalInteger('search', input, 'k', 1, SEARCH_MAX_K) ?? SEARCH_DEFAULT_K;
    return simulatedSearch(query, k);
  },
};
