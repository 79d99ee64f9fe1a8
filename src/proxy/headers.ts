import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

/** RFC 9110 §7.6.1 connection-specific fields, plus the non-standard ones proxies still see. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

function connectionListed(headers: IncomingHttpHeaders | Readonly<Record<string, string | string[] | undefined>>): Set<string> | undefined {
  const raw = headers.connection;
  const value = Array.isArray(raw) ? raw.join(',') : raw;
  if (value === undefined) return undefined;
  const names = value
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s.length > 0 && s !== 'close' && s !== 'keep-alive');
  return names.length > 0 ? new Set(names) : undefined;
}

/**
 * The request headers that go upstream: the client's, minus hop-by-hop fields, `host`
 * (the upstream's own is sent), `expect`, and the proxy's `x-flowmeter-*` headers. When
 * the proxy rewrote the body, its length is recomputed, so the client's is dropped.
 */
export function upstreamRequestHeaders(headers: IncomingHttpHeaders, bodyRewritten: boolean): Record<string, string | string[]> {
  const listed = connectionListed(headers);
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    if (HOP_BY_HOP.has(name) || name === 'host' || name === 'expect' || name.startsWith('x-flowmeter-')) continue;
    if (bodyRewritten && name === 'content-length') continue;
    if (listed?.has(name) === true) continue;
    out[name] = value;
  }
  return out;
}

/**
 * The response headers the client gets: the upstream's, minus hop-by-hop fields. When the
 * proxy removes part of the body (the injected usage chunk), the upstream's length no
 * longer holds and is dropped (the answer goes chunked).
 */
export function clientResponseHeaders(headers: Readonly<Record<string, string | string[] | undefined>>, bodyRewritten: boolean): OutgoingHttpHeaders {
  const listed = connectionListed(headers);
  const out: OutgoingHttpHeaders = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    if (HOP_BY_HOP.has(name) || listed?.has(name) === true) continue;
    if (bodyRewritten && name === 'content-length') continue;
    out[name] = value;
  }
  return out;
}

export function headerValue(headers: Readonly<Record<string, string | string[] | undefined>>, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}
