import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OPENMETRICS_CONTENT_TYPE, TEXT_CONTENT_TYPE, negotiate } from '../export/prometheus/index.js';
import type { ExpositionFormat } from '../export/prometheus/index.js';

export const DEFAULT_METRICS_PORT = 9108;
/** Local only unless asked: metrics name flows, models and agents, which is not for the whole network. */
export const DEFAULT_METRICS_ADDR = '127.0.0.1';

export interface MetricsServerOptions {
  /** The exposition in the negotiated format; called once per scrape. */
  readonly render: (format: ExpositionFormat) => string | Promise<string>;
  /** Default 9108 (ARX's `obs serve` port); 0 picks any free port. */
  readonly port?: number;
  /** Default 127.0.0.1. */
  readonly addr?: string;
  /** When set, every request must carry `Authorization: Bearer <token>`. */
  readonly token?: string;
  /** Extra fields of the /healthz answer; a `status` field replaces "ok". */
  readonly health?: () => Record<string, unknown>;
  /**
   * Do not keep the process alive for the server alone. An agent that serves its own
   * metrics (`meter.serve()`) should still exit when its work is done.
   */
  readonly unref?: boolean;
}

export interface MetricsServer {
  /** `http://<addr>:<port>` as bound (the real port when 0 was asked for). */
  readonly url: string;
  readonly port: number;
  /** Stops listening and ends idle connections. A second call returns the same promise. */
  close(): Promise<void>;
}

/** The server could not listen: a busy port, a privileged one, an address this host does not have. */
export class MetricsServerError extends Error {
  override readonly name = 'MetricsServerError';
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

const ALLOW = 'GET, HEAD';
// In-flight scrapes get this long to finish after close() before their sockets are cut.
const CLOSE_GRACE_MS = 2_000;

const LISTEN_REASONS: Readonly<Record<string, string>> = {
  EADDRINUSE: 'address already in use (another flowmeter serve or exporter is running; pick another port with --port)',
  EACCES: 'permission denied (ports below 1024 need privileges; pick a higher port with --port)',
  EADDRNOTAVAIL: 'address not available on this host (pass one of its addresses with --addr, e.g. 127.0.0.1)',
  ENOTFOUND: 'no such host (pass an IP address or a resolvable name with --addr)',
  EAI_AGAIN: 'the host name could not be resolved (pass an IP address with --addr)',
};

function hostPort(addr: string, port: number): string {
  return addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
}

function oneLine(text: string): string {
  return (text.split('\n')[0] ?? '').trim();
}

/** SHA-256 first, so both sides have equal length and the comparison time says nothing about the token. */
function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

function sendJson(res: ServerResponse, status: number, body: Record<string, unknown>, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body) + '\n';
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(res.req.method === 'HEAD' ? undefined : text);
}

/**
 * Serves `GET /metrics` (Prometheus text 0.0.4, or OpenMetrics 1.0 when the Accept header
 * prefers it) and `GET /healthz`. Answers are a status and a JSON body, never a stack
 * trace (STYLE.md 7). Resolves once listening; rejects with a one-line MetricsServerError
 * when it cannot listen.
 */
export function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const port = options.port ?? DEFAULT_METRICS_PORT;
  const addr = options.addr ?? DEFAULT_METRICS_ADDR;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    return Promise.reject(new MetricsServerError(`cannot listen on port ${String(port)}: a port is an integer from 0 to 65535 (0 picks a free one)`, 'ERR_SOCKET_BAD_PORT'));
  }
  if (options.token === '') {
    return Promise.reject(new MetricsServerError('an empty token would let anyone in; pass a non-empty token or none', undefined));
  }
  const expected = options.token === undefined ? undefined : digest(options.token);

  const authorized = (req: IncomingMessage): boolean => {
    if (expected === undefined) return true;
    const header = req.headers.authorization ?? '';
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
    // Hash whatever came (or an empty string) so a missing header costs the same as a wrong one.
    return timingSafeEqual(digest(match?.[1] ?? ''), expected) && match !== null;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    // The token guards /healthz too: its answer names the runs folder and counts files,
    // which describes the host, and one rule for every path is the one an operator can
    // audit. Kubernetes httpGet probes can send the header (httpHeaders); a tcpSocket
    // probe checks liveness without it.
    if (!authorized(req)) {
      sendJson(res, 401, { error: 'unauthorized: send Authorization: Bearer <token>' }, { 'WWW-Authenticate': 'Bearer realm="flowmeter"' });
      return;
    }
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics' && path !== '/healthz') {
      sendJson(res, 404, { error: 'not found' });
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendJson(res, 405, { error: `method ${req.method ?? '?'} not allowed; use GET` }, { Allow: ALLOW });
      return;
    }
    if (path === '/healthz') {
      sendJson(res, 200, { status: 'ok', ...options.health?.() });
      return;
    }
    const format = negotiate(req.headers.accept);
    const body = await options.render(format);
    res.writeHead(200, {
      'Content-Type': format === 'openmetrics' ? OPENMETRICS_CONTENT_TYPE : TEXT_CONTENT_TYPE,
      'Content-Length': Buffer.byteLength(body),
      'Cache-Control': 'no-store',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      // A failing render or health callback: say what failed, keep serving.
      if (res.headersSent) {
        res.destroy();
        return;
      }
      sendJson(res, 500, { error: oneLine(err instanceof Error ? err.message : String(err)) || 'internal error' });
    });
  });

  return new Promise<MetricsServer>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      const reason = (err.code !== undefined ? LISTEN_REASONS[err.code] : undefined) ?? oneLine(err.message);
      reject(new MetricsServerError(`cannot listen on ${hostPort(addr, port)}: ${reason}`, err.code));
    };
    server.once('error', onError);
    server.listen(port, addr, () => {
      server.off('error', onError);
      // Errors after listening (a socket the kernel drops) must not crash the host program.
      server.on('error', () => undefined);
      if (options.unref === true) server.unref();
      const bound = (server.address() as AddressInfo).port;
      resolve(handleOf(server, `http://${hostPort(addr, bound)}`, bound));
    });
  });
}

function handleOf(server: Server, url: string, port: number): MetricsServer {
  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve) => {
        // Idle keep-alive sockets would hold close() open for their timeout; busy ones get a grace period.
        const cut = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
        cut.unref();
        server.close(() => {
          clearTimeout(cut);
          resolve();
        });
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}
