import type { ExpositionSource } from './exposition-source.js';
import { ExpositionWriter } from './exposition-writer.js';

/** `text`: Prometheus text format 0.0.4. `openmetrics`: OpenMetrics 1.0 text. */
export type ExpositionFormat = 'text' | 'openmetrics';

export const TEXT_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

/** The Content-Type header that goes with a format. */
export function contentType(format: ExpositionFormat): string {
  return format === 'openmetrics' ? OPENMETRICS_CONTENT_TYPE : TEXT_CONTENT_TYPE;
}

// Prometheus up to 2.32 asks for OpenMetrics 0.0.1, later ones for 1.0.0 and 0.0.1; both
// are served the 1.0 text (client_golang does the same). A range without a version takes it too.
const OPENMETRICS_VERSIONS: ReadonlySet<string | undefined> = new Set([undefined, '1.0.0', '0.0.1']);

interface Weight {
  q: number;
  /** Position in the header, to break ties in favour of the range listed first. */
  at: number;
}

/**
 * Picks the format for a scraper's Accept header. OpenMetrics when the header lists
 * `application/openmetrics-text` with q > 0 ranked above text/plain (a tie goes to the
 * range listed first); the text format otherwise, also when the header is missing or asks
 * for neither. text/plain's weight comes from its own range if listed, else from `text/*`
 * or `*\/*` (RFC 9110 §12.5.1: the more specific range wins). What Prometheus sends:
 *
 *   2.5–2.32  application/openmetrics-text; version=0.0.1,text/plain;version=0.0.4;q=0.5,*\/*;q=0.1
 *   2.33–2.48 application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*\/*;q=0.1
 *   3.x       application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,…,text/plain;version=0.0.4;q=0.3,*\/*;q=0.2
 */
export function negotiate(accept: string | undefined): ExpositionFormat {
  if (accept === undefined || accept === '') return 'text';
  const openMetrics: Weight = { q: -1, at: Infinity };
  const text: Weight = { q: -1, at: Infinity };
  const wildcard: Weight = { q: -1, at: Infinity };
  const ranges = accept.split(',');
  for (let at = 0; at < ranges.length; at++) {
    const params = (ranges[at] as string).split(';');
    const type = (params[0] as string).trim().toLowerCase();
    let q = 1;
    let version: string | undefined;
    for (let p = 1; p < params.length; p++) {
      const param = params[p] as string;
      const eq = param.indexOf('=');
      if (eq === -1) continue;
      const key = param.slice(0, eq).trim().toLowerCase();
      const value = param.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
      if (key === 'q') q = qValue(value);
      else if (key === 'version') version = value;
    }
    if (type === 'application/openmetrics-text') {
      if (OPENMETRICS_VERSIONS.has(version)) raise(openMetrics, q, at);
    } else if (type === 'text/plain') raise(text, q, at);
    else if (type === 'text/*' || type === '*/*') raise(wildcard, q, at);
  }
  const plain = text.q >= 0 ? text : wildcard;
  if (openMetrics.q <= 0) return 'text';
  return openMetrics.q > plain.q || (openMetrics.q === plain.q && openMetrics.at < plain.at) ? 'openmetrics' : 'text';
}

function raise(weight: Weight, q: number, at: number): void {
  if (q > weight.q) {
    weight.q = q;
    weight.at = at;
  }
}

/** RFC 9110 qvalue: 0 to 1; anything unreadable counts as 0 (not acceptable) rather than as a preference. */
function qValue(text: string): number {
  const q = Number(text);
  return text !== '' && q >= 0 && q <= 1 ? q : 0;
}

/** The whole registry (a recorder Registry, or any ExpositionSource) in one format, in one synchronous piece. */
export function renderRegistry(registry: ExpositionSource, format: ExpositionFormat): string {
  const writer = new ExpositionWriter(registry, format === 'openmetrics');
  writer.run();
  return writer.text();
}

export interface RenderAsyncOptions {
  /** Longest stretch of rendering between two yields to the event loop, in ms (default 8). */
  readonly sliceMs?: number;
}

/**
 * The same text as `renderRegistry`, written in slices of at most ~`sliceMs` with a
 * `setImmediate` turn between them, so timers, I/O and other requests run while a very
 * large registry is rendered. A registry that fits in one slice costs no extra turn.
 */
export async function renderRegistryAsync(registry: ExpositionSource, format: ExpositionFormat, options: RenderAsyncOptions = {}): Promise<string> {
  const sliceMs = options.sliceMs ?? 8;
  if (!(sliceMs > 0)) throw new Error(`renderRegistryAsync: sliceMs must be a positive number of milliseconds, got ${String(options.sliceMs)}`);
  const writer = new ExpositionWriter(registry, format === 'openmetrics');
  while (!writer.run(performance.now() + sliceMs)) await nextTurn();
  return writer.text();
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
