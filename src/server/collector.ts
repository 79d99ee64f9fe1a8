import { createHash, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import { Hono } from 'hono';
import type { Context } from 'hono';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import { z } from 'zod';
import { OPENMETRICS_CONTENT_TYPE, TEXT_CONTENT_TYPE, negotiate } from '../export/prometheus/index.js';
import type { ExpositionFormat } from '../export/prometheus/index.js';
import type { FlowEvent } from '../model/index.js';
import { OUTCOMES } from '../model/index.js';
import { timeMs } from '../model/duration.js';
import { BatchBuilder } from '../store/batch.js';
import { buildReport } from '../store/report.js';
import type { Store } from '../store/store.js';
import { GROUP_BY } from '../store/window.js';
import { MAX_BODY_BYTES, parseNdjson } from './ingest.js';
import { LiveMetrics } from './live.js';
import type { RunFinishedMessage } from './live.js';
import { DEFAULT_METRICS_ADDR, DEFAULT_METRICS_PORT, MetricsServerError } from './metrics-server.js';
import { SERIES_BY, SERIES_METRICS, STEPS, timeseries } from './timeseries.js';
import { OtlpDecodeError, TraceAssembler, decodeTraces } from './otlp-traces.js';
import type { AlertEngine } from './alerts.js';

export interface CollectorOptions {
  /** Where ingested events are written and the API reads; without one, `/api/*` answers 503. */
  readonly store?: Store;
  /** The Prometheus exposition in the negotiated format, for `/metrics`. */
  readonly render: (format: ExpositionFormat) => string | Promise<string>;
  /** Extra fields of `/healthz`. */
  readonly health?: () => Record<string, unknown>;
  /** Events accepted by ingest, after the store has them (the Prometheus view, the live figures). */
  readonly onEvents?: (events: readonly FlowEvent[]) => void;
  readonly port?: number;
  readonly addr?: string;
  /** When set, every route — WebSocket upgrade and ingest included — needs `Authorization: Bearer <token>`. */
  readonly token?: string;
  /** How often the WebSocket pushes `metrics.update`; default 1000 ms. */
  readonly tickMs?: number;
  readonly maxBodyBytes?: number;
  /** The live figures; one is made when not given. */
  readonly live?: LiveMetrics;
  /** How long a trace without its root span waits before it is converted; default 30 s. */
  readonly traceIdleMs?: number;
  /** Alert rules evaluated over the store every `alertIntervalMs` (default 5 s); listed on `/api/alerts`. */
  readonly alerts?: AlertEngine;
  readonly alertIntervalMs?: number;
  /** The built dashboard (index.html and assets/); default dist/web of this package; null for none. */
  readonly dashboardDir?: string | null;
}

export interface Collector {
  readonly url: string;
  readonly port: number;
  readonly live: LiveMetrics;
  /** Events from a source other than ingest (a tailed runs folder): live figures and `run.finished` messages. */
  observe(events: readonly FlowEvent[]): void;
  /** Sends a message to every WebSocket client (e.g. `{ type: 'system', … }`). */
  broadcast(message: unknown): void;
  /** Ingest counters: batches and events accepted, batches refused. */
  stats(): { readonly batches: number; readonly events: number; readonly rejected: number; readonly clients: number; readonly spans: number; readonly held_spans: number };
  close(): Promise<void>;
}

/** SHA-256 first, so both sides have equal length and the comparison time says nothing about the token. */
function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** A time parameter: a duration back from now (`15m`, `24h`) or an ISO time or epoch milliseconds. */
const timeParam = z.string().transform((text, ctx) => {
  if (/^\d{10,}$/.test(text)) return Number(text);
  const ms = timeMs(text);
  if (ms === null) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `"${text}" is neither a duration back from now (15m, 24h, 7d) nor a time` });
    return z.NEVER;
  }
  return ms;
});

const runsQuery = z
  .object({
    since: timeParam.optional(),
    until: timeParam.optional(),
    flow: z.string().optional(),
    agent: z.string().optional(),
    model: z.string().optional(),
    outcome: z.enum(OUTCOMES).optional(),
    app: z.string().optional(),
    session: z.string().optional(),
    user: z.string().optional(),
    parent: z.string().optional(),
    limit: z.coerce.number().int().min(1).max(1000).optional(),
    cursor: z.string().optional(),
  })
  .strict();

const statsQuery = z.object({ since: timeParam.optional(), until: timeParam.optional(), by: z.enum(GROUP_BY).optional(), flow: z.string().optional() }).strict();

const seriesQuery = z
  .object({
    metric: z.enum(SERIES_METRICS),
    since: timeParam.optional(),
    until: timeParam.optional(),
    step: z.enum(Object.keys(STEPS) as [string, ...string[]]).optional(),
    by: z.enum(SERIES_BY).optional(),
  })
  .strict();

/** The first problem of a query, as `name: message`. */
function reasonOf(error: z.ZodError): string {
  const issue = error.issues[0];
  if (issue === undefined) return 'bad query';
  if (issue.code === z.ZodIssueCode.unrecognized_keys) return `unknown parameter ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`;
  return issue.path.length === 0 ? issue.message : `${issue.path.join('.')}: ${issue.message}`;
}

/** Picks a step that gives a chart a few hundred points at most. */
function defaultStep(since: number, until: number): string {
  const span = until - since;
  if (span <= 6 * 3_600_000) return '1m';
  if (span <= 2 * 86_400_000) return '15m';
  if (span <= 14 * 86_400_000) return '1h';
  return '1d';
}

const CLOSE_GRACE_MS = 2_000;
/** How often ended runs go out on the WebSocket, and how many per flush at most (20 a second). */
const RUN_FLUSH_MS = 250;
const RUN_MESSAGES_PER_FLUSH = 5;

/**
 * The collector behind `flowmeter serve`: one port for `/metrics` and `/healthz`, the REST
 * API over the store, NDJSON ingest from other processes, and a WebSocket that pushes Union
 * Square's `metrics.update` every second and `run.finished` as runs end. Binds 127.0.0.1
 * unless told otherwise; answers are JSON with a status, never a stack trace.
 */
export async function startCollector(options: CollectorOptions): Promise<Collector> {
  const port = options.port ?? DEFAULT_METRICS_PORT;
  const addr = options.addr ?? DEFAULT_METRICS_ADDR;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new MetricsServerError(`cannot listen on port ${String(port)}: a port is an integer from 0 to 65535 (0 picks a free one)`, 'ERR_SOCKET_BAD_PORT');
  if (options.token === '') throw new MetricsServerError('an empty token would let anyone in; pass a non-empty token or none', undefined);
  const expected = options.token === undefined ? undefined : digest(options.token);
  const tokenMatches = (token: string | undefined): boolean => expected === undefined || (token !== undefined && timingSafeEqual(digest(token), expected));
  const bearer = (header: string | undefined): string | undefined => /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header ?? '')?.[1];
  const live = options.live ?? new LiveMetrics();
  const maxBody = options.maxBodyBytes ?? MAX_BODY_BYTES;
  const store = options.store;
  const sockets = new Set<WebSocket>();
  const counts = { batches: 0, events: 0, rejected: 0, spans: 0 };
  // One builder per ingest client (it numbers each run's calls in order); bounded.
  const builders = new Map<string, BatchBuilder>();
  const builderOf = (client: string): BatchBuilder => {
    let b = builders.get(client);
    if (b === undefined) {
      if (builders.size >= 10_000) builders.delete(builders.keys().next().value!);
      builders.set(client, (b = new BatchBuilder()));
    }
    return b;
  };

  const broadcast = (message: unknown): void => {
    if (sockets.size === 0) return;
    const text = JSON.stringify(message);
    for (const ws of sockets) if (ws.readyState === ws.OPEN) ws.send(text);
  };
  // Runs that ended are sent at most RUN_MESSAGES_PER_FLUSH per flush (the newest): under a
  // fleet ending hundreds of runs a second, 500 pages would otherwise take ~100,000 messages
  // a second. The rest are counted in one `runs.skipped` message, so a page can refetch.
  let finished: RunFinishedMessage[] = [];
  let skipped = 0;
  const flushFinished = (): void => {
    if (finished.length === 0) return;
    const batch = finished;
    finished = [];
    for (const message of batch) broadcast(message);
    if (skipped > 0) broadcast({ type: 'runs.skipped', count: skipped });
    skipped = 0;
  };
  const finishedTimer = setInterval(flushFinished, RUN_FLUSH_MS);
  finishedTimer.unref();
  const observe = (events: readonly FlowEvent[]): void => {
    for (const event of events) {
      live.record(event);
      if (event.kind !== 'run_finished' || sockets.size === 0) continue;
      finished.push({ type: 'run.finished', run: { ...event.event, summary: event.summary } });
      if (finished.length > RUN_MESSAGES_PER_FLUSH) {
        finished.shift();
        skipped++;
      }
    }
  };

  /** Events from ingest or OTLP: stored first (in one transaction), then the view and the live figures. */
  const accept = async (client: string, events: FlowEvent[]): Promise<Awaited<ReturnType<Store['write']>> | null> => {
    const result = store === undefined ? null : await store.write(builderOf(client).build(events));
    counts.batches++;
    counts.events += events.length;
    options.onEvents?.(events);
    observe(events);
    return result;
  };
  const assembler = new TraceAssembler(async (events) => {
    await accept('otlp', events);
  }, options.traceIdleMs ?? 30_000);
  const sweep = setInterval(() => {
    assembler.sweep().catch(() => undefined);
  }, Math.min(5_000, options.traceIdleMs ?? 30_000));
  sweep.unref();

  const json = (c: Context, status: number, body: unknown, headers: Record<string, string> = {}): Response =>
    c.body(JSON.stringify(body) + '\n', status as 200, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', ...headers });
  const needStore = (c: Context): Store | Response => store ?? json(c, 503, { error: 'no store: start flowmeter serve with a store (--db) to use the API' });

  const app = new Hono();
  app.onError((err, c) => json(c, 500, { error: ((err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '').trim() || 'internal error' }));
  app.notFound((c) => json(c, 404, { error: 'not found' }));
  // The dashboard's files hold no data (the page asks for a token and sends it with every
  // API call): they are served without one, so a browser can load the login prompt.
  const dashboard = options.dashboardDir === undefined ? defaultDashboardDir() : options.dashboardDir;
  const isStatic = (path: string): boolean => path === '/' || path === '/index.html' || path.startsWith('/assets/');
  app.use('*', async (c: Context, next): Promise<Response | undefined> => {
    if (dashboard !== null && c.req.method === 'GET' && isStatic(c.req.path)) {
      const file = staticFile(dashboard, c.req.path === '/' ? '/index.html' : c.req.path);
      if (file === null) return json(c, 404, { error: 'not found' });
      return c.body(file.body, 200, {
        'Content-Type': file.type,
        'Cache-Control': c.req.path.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
        'Content-Security-Policy': "default-src 'self'; connect-src 'self' ws: wss:; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'",
        'X-Content-Type-Options': 'nosniff',
      });
    }
    if (!tokenMatches(bearer(c.req.header('authorization')))) {
      return json(c, 401, { error: 'unauthorized: send Authorization: Bearer <token>' }, { 'WWW-Authenticate': 'Bearer realm="flowmeter"' });
    }
    await next();
    return undefined;
  });

  const getOnly = (c: Context): Response => json(c, 405, { error: `method ${c.req.method} not allowed; use GET` }, { Allow: 'GET, HEAD' });
  app.get('/healthz', (c) => json(c, 200, { status: 'ok', ...options.health?.(), store: store?.location ?? null, ingest: { ...counts }, websocket_clients: sockets.size }));
  app.get('/metrics', async (c) => {
    const format = negotiate(c.req.header('accept'));
    const body = await options.render(format);
    return c.body(body, 200, { 'Content-Type': format === 'openmetrics' ? OPENMETRICS_CONTENT_TYPE : TEXT_CONTENT_TYPE, 'Cache-Control': 'no-store' });
  });
  app.all('/metrics', getOnly);
  app.all('/healthz', getOnly);

  app.get('/api/runs', async (c) => {
    const s = needStore(c);
    if (s instanceof Response) return s;
    const q = runsQuery.safeParse(c.req.query());
    if (!q.success) return json(c, 400, { error: reasonOf(q.error) });
    const { since, until, ...rest } = q.data;
    const page = await s.runs({ ...rest, ...(since === undefined ? {} : { since }), ...(until === undefined ? {} : { until }), limit: rest.limit ?? 50 });
    return json(c, 200, page);
  });
  app.get('/api/runs/:id', async (c) => {
    const s = needStore(c);
    if (s instanceof Response) return s;
    const detail = await s.run(c.req.param('id'));
    return detail === null ? json(c, 404, { error: `no run ${JSON.stringify(c.req.param('id'))}` }) : json(c, 200, detail);
  });
  app.get('/api/stats', async (c) => {
    const s = needStore(c);
    if (s instanceof Response) return s;
    const q = statsQuery.safeParse(c.req.query());
    if (!q.success) return json(c, 400, { error: reasonOf(q.error) });
    const until = q.data.until ?? Date.now() + 60_000;
    const since = q.data.since ?? 0;
    if (since >= until) return json(c, 400, { error: 'the window is empty: since must be before until' });
    return json(c, 200, await buildReport(s, { since, until, ...(q.data.by === undefined ? {} : { by: q.data.by }), ...(q.data.flow === undefined ? {} : { filters: { flow: q.data.flow } }) }));
  });
  app.get('/api/timeseries', async (c) => {
    const s = needStore(c);
    if (s instanceof Response) return s;
    const q = seriesQuery.safeParse(c.req.query());
    if (!q.success) return json(c, 400, { error: reasonOf(q.error) });
    const until = q.data.until ?? Date.now() + 60_000;
    const since = q.data.since ?? until - 3_600_000;
    if (since >= until) return json(c, 400, { error: 'the window is empty: since must be before until' });
    const step = q.data.step ?? defaultStep(since, until);
    if ((until - since) / STEPS[step]!.ms > 10_000) return json(c, 400, { error: `step ${step} over this window gives more than 10,000 points; choose a larger step` });
    return json(c, 200, await timeseries(s, { metric: q.data.metric, since, until, step, ...(q.data.by === undefined ? {} : { by: q.data.by }) }));
  });
  app.post('/api/events', async (c) => {
    const s = needStore(c);
    if (s instanceof Response) return s;
    const length = Number(c.req.header('content-length') ?? NaN);
    if (length > maxBody) {
      counts.rejected++;
      return json(c, 413, { error: `body larger than ${maxBody} bytes; send smaller batches` });
    }
    const body = await readLimited(c.req.raw, maxBody);
    if (body === null) {
      counts.rejected++;
      return json(c, 413, { error: `body larger than ${maxBody} bytes; send smaller batches` });
    }
    const parsed = parseNdjson(body);
    if (!parsed.ok) {
      counts.rejected++;
      return json(c, parsed.status, { error: `line ${parsed.line}: ${parsed.reason}`, line: parsed.line, reason: parsed.reason });
    }
    const result = await accept(c.req.header('x-flowmeter-client') ?? 'default', parsed.events);
    return json(c, 200, { accepted: parsed.events.length, ...result });
  });
  app.post('/v1/traces', async (c) => {
    const s = needStore(c);
    if (s instanceof Response) return s;
    const type = c.req.header('content-type') ?? 'application/x-protobuf';
    const raw = await readLimitedBytes(c.req.raw, maxBody);
    if (raw === null) {
      counts.rejected++;
      return json(c, 413, { error: `body larger than ${maxBody} bytes; send smaller batches` });
    }
    let spans;
    try {
      spans = decodeTraces(raw, type);
    } catch (err) {
      counts.rejected++;
      return json(c, 400, { error: err instanceof OtlpDecodeError ? err.message : 'not an OTLP trace request' });
    }
    counts.spans += spans.length;
    await assembler.add(spans);
    // ExportTraceServiceResponse with nothing rejected: empty in protobuf, {} in JSON.
    return type.includes('json') ? c.body('{}', 200, { 'Content-Type': 'application/json' }) : c.body(new Uint8Array(0), 200, { 'Content-Type': 'application/x-protobuf' });
  });
  app.get('/api/alerts', (c) => {
    const engine = options.alerts;
    return json(c, 200, { rules: engine?.rules.map((r) => r.text) ?? [], firing: engine?.firing() ?? [], recent: engine?.recent() ?? [] });
  });
  app.all('/api/events', (c) => json(c, 405, { error: `method ${c.req.method} not allowed; use POST` }, { Allow: 'POST' }));

  const server = createAdaptorServer({ fetch: app.fetch, hostname: addr, port }) as Server;
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const refuse = (status: number, reason: string): void => {
      socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: application/json\r\n\r\n${JSON.stringify({ error: reason })}\n`);
    };
    if (url.pathname !== '/ws') return refuse(404, 'not found');
    // Browsers cannot set headers on a WebSocket: the token may come as a subprotocol
    // (`bearer.<token>`) or a query parameter instead.
    const protocols = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
    const fromProtocol = protocols.find((p) => p.startsWith('bearer.'))?.slice('bearer.'.length);
    const token = bearer(req.headers.authorization) ?? fromProtocol ?? url.searchParams.get('token') ?? undefined;
    if (!tokenMatches(token)) return refuse(401, 'unauthorized');
    // A page from another site must not read the stream with the user's network position.
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== `http://${req.headers.host ?? ''}` && origin !== `https://${req.headers.host ?? ''}`) return refuse(403, 'origin not allowed');
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws);
      ws.on('close', () => sockets.delete(ws));
      ws.on('error', () => sockets.delete(ws));
      // Pushes only: what a client sends is ignored.
    });
  });
  wss.on('headers', () => undefined);
  // A subprotocol offered by the client must be chosen, or browsers drop the connection.
  (wss.options as { handleProtocols?: (protocols: Set<string>) => string | false }).handleProtocols = (protocols) => [...protocols].find((p) => p.startsWith('bearer.')) ?? [...protocols][0] ?? false;

  let evaluating = false;
  const alertTimer =
    options.alerts === undefined
      ? undefined
      : setInterval(() => {
          const engine = options.alerts!;
          if (evaluating) return;
          evaluating = true;
          engine
            .evaluate()
            .then((notes) => {
              for (const n of notes) broadcast({ type: 'alert', ...n });
            })
            .catch(() => undefined)
            .finally(() => (evaluating = false));
        }, options.alertIntervalMs ?? 5_000);
  alertTimer?.unref();

  const tick = setInterval(() => {
    if (sockets.size === 0) return;
    for (const update of live.updates()) broadcast(update);
  }, options.tickMs ?? 1000);
  tick.unref();

  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      clearInterval(tick);
      reject(new MetricsServerError(`cannot listen on ${addr}:${port}: ${err.code === 'EADDRINUSE' ? 'address already in use (another flowmeter serve or exporter is running; pick another port with --port)' : err.message}`, err.code));
    };
    server.once('error', onError);
    server.listen(port, addr, () => {
      server.off('error', onError);
      server.on('error', () => undefined);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  const host = addr.includes(':') ? `[${addr}]` : addr;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${bound}`,
    port: bound,
    live,
    observe,
    broadcast,
    stats: () => ({ ...counts, clients: sockets.size, held_spans: assembler.heldSpans }),
    close(): Promise<void> {
      closing ??= (async () => {
        clearInterval(tick);
        clearInterval(sweep);
        clearInterval(finishedTimer);
        if (alertTimer !== undefined) clearInterval(alertTimer);
        await options.alerts?.settled();
        // Traces still waiting for their root go in as they are.
        await assembler.drain().catch(() => undefined);
        await new Promise<void>((resolve) => {
          for (const ws of sockets) ws.close(1001, 'server stopping');
          wss.close();
          const cut = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
          cut.unref();
          server.close(() => {
            clearTimeout(cut);
            resolve();
          });
          server.closeIdleConnections();
        });
      })();
      return closing;
    },
  };
}

/** dist/web beside this module's package (the same from src/server under tsx and dist/server when built), when it was built. */
function defaultDashboardDir(): string | null {
  const dir = fileURLToPath(new URL('../../dist/web/', import.meta.url));
  return existsSync(join(dir, 'index.html')) ? dir : null;
}

const TYPES: Readonly<Record<string, string>> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml', '.png': 'image/png', '.json': 'application/json' };

/** A file of the dashboard, never outside its folder. */
function staticFile(dir: string, path: string): { body: Uint8Array<ArrayBuffer>; type: string } | null {
  const name = normalize(decodeURIComponent(path)).replace(/^[/\\]+/, '');
  if (name.startsWith('..') || name.includes('\0')) return null;
  const full = join(dir, name);
  if (!full.startsWith(dir) || !existsSync(full)) return null;
  try {
    return { body: new Uint8Array(readFileSync(full)), type: TYPES[extname(full)] ?? 'application/octet-stream' };
  } catch {
    return null;
  }
}

/** The body as text, or null once it passes `limit` bytes (the read stops there). */
async function readLimited(req: Request, limit: number): Promise<string | null> {
  const bytes = await readLimitedBytes(req, limit);
  return bytes === null ? null : Buffer.from(bytes).toString('utf8');
}

async function readLimitedBytes(req: Request, limit: number): Promise<Uint8Array | null> {
  if (req.body === null) return new Uint8Array(0);
  const reader = req.body.getReader() as { read(): Promise<{ done: true; value?: undefined } | { done: false; value: Uint8Array }>; cancel(): Promise<void> };
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}
