import { TEXT_CONTENT_TYPE } from './prometheus/index.js';

export interface PushOptions {
  /** The Pushgateway's base URL, e.g. `http://127.0.0.1:9091`. Basic-auth credentials in it are sent as a header. */
  readonly url: string;
  /** The `job` of the group, e.g. `flowmeter`. */
  readonly job: string;
  /** More grouping labels, e.g. `{ flow_id: 'triage' }`. Every pushed series gets them. */
  readonly grouping?: Readonly<Record<string, string>>;
  /** Prometheus text exposition (0.0.4) of the metrics. */
  readonly body: string;
  /** PUT (default) replaces every metric of the group; POST only those of the same name. */
  readonly method?: 'PUT' | 'POST';
  /** Sent as `Authorization: Bearer <token>`. */
  readonly token?: string;
  /** Default 10 000 ms. */
  readonly timeoutMs?: number;
}

/** A push that did not land: the gateway was unreachable, too slow, or answered non-2xx (`status`). */
export class PushgatewayError extends Error {
  override readonly name = 'PushgatewayError';
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const DEFAULT_TIMEOUT_MS = 10_000;
const BODY_SNIPPET = 200;

/**
 * One `/<name>/<value>` path segment pair. The Pushgateway cannot take `/` in a value
 * even percent-encoded, nor an empty value, so those go base64url-encoded under
 * `<name>@base64` (`=` for the empty string), as its README specifies.
 */
function segment(name: string, value: string): string {
  if (value === '') return `${name}@base64/=`;
  if (value.includes('/')) return `${name}@base64/${Buffer.from(value, 'utf8').toString('base64url')}`;
  return `${name}/${encodeURIComponent(value)}`;
}

/** `<url>/metrics/job/<job>/<label>/<value>…`, the grouping key in the path. */
export function groupingPath(job: string, grouping: Readonly<Record<string, string>> = {}): string {
  if (job === '') throw new Error('pushMetrics: `job` must not be empty; the Pushgateway groups every push by it');
  const parts = ['metrics', segment('job', job)];
  for (const [name, value] of Object.entries(grouping)) {
    if (!LABEL_NAME.test(name) || name.startsWith('__')) throw new Error(`pushMetrics: ${JSON.stringify(name)} is not a label name ([a-zA-Z_][a-zA-Z0-9_]*, no leading __)`);
    if (name === 'job') throw new Error('pushMetrics: put the job in `job`, not in `grouping`');
    parts.push(segment(name, value));
  }
  return parts.join('/');
}

function causeOf(err: unknown): string {
  // fetch() wraps the socket error: TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } }).
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code === 'ECONNREFUSED') return 'connection refused (is the Pushgateway running?)';
  if (cause?.code === 'ENOTFOUND') return 'no such host';
  return (cause?.message ?? (err instanceof Error ? err.message : String(err))).split('\n')[0] ?? '';
}

/**
 * Pushes one text exposition to a Prometheus Pushgateway, for batch runs that end before
 * a scrape would reach them. Resolves when the gateway accepted it (2xx); rejects with a
 * one-line PushgatewayError otherwise.
 */
export async function pushMetrics(options: PushOptions): Promise<void> {
  let base: URL;
  try {
    base = new URL(options.url);
  } catch {
    throw new Error(`pushMetrics: ${JSON.stringify(options.url)} is not a URL; pass the gateway's base URL, e.g. http://127.0.0.1:9091`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new Error(`pushMetrics: ${options.url} is not an http(s) URL`);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw new Error(`pushMetrics: timeoutMs must be a positive integer, got ${String(options.timeoutMs)}`);

  const headers: Record<string, string> = { 'Content-Type': TEXT_CONTENT_TYPE };
  // fetch() refuses URLs with credentials; a gateway behind basic auth gets them as a header.
  if (base.username !== '' || base.password !== '') {
    const user = decodeURIComponent(base.username);
    const pass = decodeURIComponent(base.password);
    headers.Authorization = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
    base.username = '';
    base.password = '';
  }
  if (options.token !== undefined) headers.Authorization = `Bearer ${options.token}`;

  const root = base.href.replace(/\/+$/, '');
  const target = `${root}/${groupingPath(options.job, options.grouping)}`;
  const method = options.method ?? 'PUT';
  let response: Response;
  try {
    response = await fetch(target, { method, headers, body: options.body, signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const why = err instanceof Error && err.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : causeOf(err);
    throw new PushgatewayError(`cannot push to the Pushgateway at ${root}: ${why}`);
  }
  if (response.ok) {
    // Drain the body so the connection goes back to the pool.
    await response.arrayBuffer().catch(() => undefined);
    return;
  }
  const text = await response.text().catch(() => '');
  const snippet = text.replace(/\s+/g, ' ').trim().slice(0, BODY_SNIPPET);
  throw new PushgatewayError(
    `the Pushgateway answered ${response.status} ${response.statusText} to ${method} ${target}${snippet === '' ? '' : `: ${snippet}`}`,
    response.status,
  );
}
