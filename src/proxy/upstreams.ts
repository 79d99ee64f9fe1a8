/**
 * Named upstreams: a request to `/<name>/<rest>` goes to `<upstream of name>/<rest>`.
 * The name also says which provider's wire format (and error shape) to expect: `anthropic`
 * speaks Messages, every other name is taken as OpenAI-compatible (vLLM, Ollama,
 * OpenRouter, Azure-style paths) unless its spec says otherwise.
 */

export type Dialect = 'openai' | 'anthropic';

export interface Upstream {
  readonly name: string;
  /** Origin and base path, without a trailing slash: `https://api.openai.com`. */
  readonly url: string;
  readonly dialect: Dialect;
}

/** A setting that cannot be used; the message says which and what to do. */
export class ProxyConfigError extends Error {
  override readonly name = 'ProxyConfigError';
}

export const DEFAULT_UPSTREAMS: readonly Upstream[] = [
  { name: 'openai', url: 'https://api.openai.com', dialect: 'openai' },
  { name: 'anthropic', url: 'https://api.anthropic.com', dialect: 'anthropic' },
];

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** `name=url` (or `name=url` with `#anthropic` to name a Messages-speaking upstream). */
export function parseUpstream(spec: string): Upstream {
  const eq = spec.indexOf('=');
  if (eq <= 0) throw new ProxyConfigError(`upstream "${spec}" is not name=url, e.g. openai=https://api.openai.com`);
  const name = spec.slice(0, eq).trim();
  let raw = spec.slice(eq + 1).trim();
  let dialect: Dialect | undefined;
  const hash = raw.lastIndexOf('#');
  if (hash !== -1) {
    const tag = raw.slice(hash + 1);
    if (tag !== 'openai' && tag !== 'anthropic') throw new ProxyConfigError(`upstream "${name}": #${tag} is not a wire format; use #openai or #anthropic`);
    dialect = tag;
    raw = raw.slice(0, hash);
  }
  return upstream(name, raw, dialect);
}

export function upstream(name: string, url: string, dialect?: Dialect): Upstream {
  if (!NAME.test(name)) throw new ProxyConfigError(`upstream name "${name}" must be letters, digits, '.', '_' or '-' (it becomes the first path segment)`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ProxyConfigError(`upstream "${name}": "${url}" is not a URL; use e.g. https://api.openai.com`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new ProxyConfigError(`upstream "${name}": ${parsed.protocol} is not supported; use http or https`);
  if (parsed.search !== '' || parsed.hash !== '') throw new ProxyConfigError(`upstream "${name}": a query or fragment in "${url}" cannot be joined with request paths`);
  return { name, url: `${parsed.origin}${parsed.pathname.replace(/\/+$/, '')}`, dialect: dialect ?? (name === 'anthropic' ? 'anthropic' : 'openai') };
}

/** The defaults, with later specs replacing a default of the same name. */
export function resolveUpstreams(given: readonly (Upstream | string)[] | Readonly<Record<string, string>> | undefined): Map<string, Upstream> {
  const map = new Map<string, Upstream>(DEFAULT_UPSTREAMS.map((u) => [u.name, u]));
  if (given === undefined) return map;
  const list: Upstream[] = Array.isArray(given)
    ? (given as readonly (Upstream | string)[]).map((u) => (typeof u === 'string' ? parseUpstream(u) : upstream(u.name, u.url, u.dialect)))
    : Object.entries(given as Readonly<Record<string, string>>).map(([name, url]) => upstream(name, url));
  for (const u of list) map.set(u.name, u);
  return map;
}
