import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, OutgoingHttpHeaders, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import type { Dispatcher } from 'undici';
import { OPENMETRICS_CONTENT_TYPE, TEXT_CONTENT_TYPE, negotiate } from '../export/prometheus/index.js';
import type { ExpositionFormat } from '../export/prometheus/index.js';
import type { Meter, Usage } from '../meter/index.js';
import { PriceBook, isReportedCost } from '../pricing/index.js';
import type { PriceBookOptions } from '../pricing/index.js';
import { RunRegistry, attributionOf } from './attribution.js';
import type { Attribution } from './attribution.js';
import { Budgets, parseBudget } from './budgets.js';
import type { BudgetKeys, BudgetRule } from './budgets.js';
import { endpointOf, providerError } from './endpoints.js';
import type { Endpoint } from './endpoints.js';
import { clientResponseHeaders, headerValue, upstreamRequestHeaders } from './headers.js';
import { withIncludeUsage } from './include-usage.js';
import { MeteredCall, PartialResponse, StreamError, UpstreamStatusError, callEnd } from './metered-call.js';
import type { CallMeta } from './metered-call.js';
import { ProxyMetrics } from './proxy-metrics.js';
import { ResponseReader } from './response-reader.js';
import { sendUpstream } from './upstream-request.js';
import { ProxyConfigError, resolveUpstreams } from './upstreams.js';
import type { Dialect, Upstream } from './upstreams.js';

export const DEFAULT_PROXY_PORT = 8787;
export const DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024;
export const DEFAULT_RUN_IDLE_MS = 60_000;
export const OVERHEAD_HEADER = 'x-flowmeter-overhead-ms';
const TOKEN_HEADER = 'x-flowmeter-token';
/** How much of a non-streamed answer is held before it is passed on (see `onData`). */
const HOLD_BYTES = 64 * 1024;

export interface ProxyOptions {
  /** Every call becomes this meter's events: files, logs, /metrics, the store. */
  readonly meter: Meter;
  /** `name=url` specs or `{ name: url }`; `openai` and `anthropic` are there unless replaced. */
  readonly upstreams?: readonly (Upstream | string)[] | Readonly<Record<string, string>>;
  /** Proxied requests must send `x-flowmeter-token: <token>`; /metrics and /healthz `Authorization: Bearer <token>`. */
  readonly token?: string;
  /** `app=* cost_usd_per_day<=5`, … (see parseBudget). */
  readonly budgets?: readonly (string | BudgetRule)[];
  /** Largest metered request body; past it the answer is 413. Default 32 MiB. */
  readonly maxBodyBytes?: number;
  /** A run named by `x-flowmeter-run-id` ends after this long without calls. Default 60 s. */
  readonly runIdleMs?: number;
  /** Prices for budget accounting; the meter prices the recorded calls with its own. */
  readonly prices?: PriceBookOptions;
  /** HTTP client for upstream requests; default an undici Agent with keep-alive. */
  readonly dispatcher?: Dispatcher;
}

export interface ProxyServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

interface Route {
  readonly upstream: Upstream;
  readonly origin: string;
  readonly path: string;
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

function oneLine(err: unknown): string {
  return ((err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '').trim();
}

/**
 * The metering proxy: `/<name>/<rest>` goes to `<upstream name>/<rest>` unchanged, and
 * every call to a metered endpoint (Chat Completions, Responses, Embeddings, Messages)
 * becomes an `llm_call` on the meter, in a run of its own or the run its
 * `x-flowmeter-run-id` names. Metering never stops traffic: whatever fails in it is
 * counted and the response flows on.
 */
export class MeteringProxy {
  readonly metrics = new ProxyMetrics();
  private readonly meter: Meter;
  private readonly upstreams: Map<string, Upstream>;
  private readonly origins = new Map<string, { origin: string; base: string }>();
  private readonly tokenDigest: Buffer | undefined;
  private readonly budgets: Budgets;
  private readonly maxBodyBytes: number;
  private readonly runs: RunRegistry;
  private readonly prices: PriceBook;
  private readonly dispatcher: Dispatcher;
  private readonly ownDispatcher: boolean;
  private readonly servers = new Set<Server>();
  private closing: Promise<void> | undefined;

  constructor(options: ProxyOptions) {
    this.meter = options.meter;
    this.upstreams = resolveUpstreams(options.upstreams);
    for (const u of this.upstreams.values()) {
      if (u.name === 'metrics' || u.name === 'healthz') throw new ProxyConfigError(`upstream name "${u.name}" is taken by the proxy's own /${u.name}; pick another`);
      const url = new URL(u.url);
      this.origins.set(u.name, { origin: url.origin, base: url.pathname === '/' ? '' : url.pathname });
    }
    if (options.token !== undefined && (options.token.trim() === '' || /\s/.test(options.token))) throw new ProxyConfigError('the token must be one non-empty word');
    this.tokenDigest = options.token === undefined ? undefined : digest(options.token);
    this.budgets = new Budgets((options.budgets ?? []).map((b) => (typeof b === 'string' ? parseBudget(b) : b)));
    this.maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    if (!Number.isSafeInteger(this.maxBodyBytes) || this.maxBodyBytes <= 0) throw new ProxyConfigError(`maxBodyBytes must be a positive integer, got ${String(options.maxBodyBytes)}`);
    const idle = options.runIdleMs ?? DEFAULT_RUN_IDLE_MS;
    if (!Number.isSafeInteger(idle) || idle <= 0) throw new ProxyConfigError(`runIdleMs must be a positive integer, got ${String(options.runIdleMs)}`);
    this.runs = new RunRegistry(this.meter, idle, (runId) => this.budgets.endRun(runId));
    this.prices = new PriceBook(options.prices);
    this.ownDispatcher = options.dispatcher === undefined;
    this.dispatcher = options.dispatcher ?? new Agent({ keepAliveTimeout: 30_000, headersTimeout: 600_000, bodyTimeout: 600_000 });
  }

  /** The request handler, for mounting on your own `http.Server`. */
  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    const arrived = performance.now();
    try {
      this.route(req, res, arrived);
    } catch (err) {
      this.metrics.meteringFailure('internal_error');
      if (!res.headersSent) this.answer(res, 500, 'openai', `proxy error: ${oneLine(err)}`);
      else res.destroy();
    }
  };

  /** The meter's exposition followed by the proxy's own metrics. */
  renderMetrics(format: ExpositionFormat): string {
    let meter = this.meter.metrics(format);
    if (format === 'openmetrics') meter = meter.replace(/# EOF\n?$/, '');
    return meter + this.metrics.render(format);
  }

  /** Listens on `addr:port` (default 127.0.0.1:8787; 0 picks a free port). */
  listen(options: { readonly port?: number; readonly addr?: string } = {}): Promise<ProxyServer> {
    const port = options.port ?? DEFAULT_PROXY_PORT;
    const addr = options.addr ?? '127.0.0.1';
    const server = createServer(this.handle);
    server.keepAliveTimeout = 65_000;
    return new Promise((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => reject(new ProxyConfigError(`cannot listen on ${addr}:${port}: ${err.code === 'EADDRINUSE' ? 'address already in use; pick another port with --port' : oneLine(err)}`)));
      server.listen(port, addr, () => {
        server.removeAllListeners('error');
        server.on('error', () => undefined);
        this.servers.add(server);
        const bound = (server.address() as AddressInfo).port;
        const host = addr.includes(':') ? `[${addr}]` : addr;
        let closed: Promise<void> | undefined;
        resolve({
          url: `http://${host}:${bound}`,
          port: bound,
          close: () =>
            (closed ??= new Promise<void>((done) => {
              this.servers.delete(server);
              server.close(() => done());
              server.closeIdleConnections();
              setTimeout(() => server.closeAllConnections(), 2_000).unref();
            })),
        });
      });
    });
  }

  /** Stops listening, ends open runs and flushes the meter's queue. Idempotent; the meter stays open (it is the caller's). */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.all(
        [...this.servers].map(
          (server) =>
            new Promise<void>((done) => {
              server.close(() => done());
              server.closeAllConnections();
            }),
        ),
      );
      this.runs.closeAll();
      if (this.ownDispatcher) await this.dispatcher.close();
      await this.meter.flush();
    })();
    return this.closing;
  }

  private route(req: IncomingMessage, res: ServerResponse, arrived: number): void {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const pathOnly = q === -1 ? url : url.slice(0, q);
    if (pathOnly === '/metrics' || pathOnly === '/healthz') return this.own(req, res, pathOnly);
    const end = pathOnly.indexOf('/', 1);
    const name = end === -1 ? pathOnly.slice(1) : pathOnly.slice(1, end);
    const upstream = this.upstreams.get(name);
    if (upstream === undefined) {
      req.resume();
      const known = [...this.upstreams.keys()].join(', ');
      return this.answer(res, 404, 'openai', `no upstream named "${name}"; known: ${known} (send requests to /<name>/…)`);
    }
    if (this.tokenDigest !== undefined && !this.tokenMatches(headerValue(req.headers, TOKEN_HEADER))) {
      req.resume();
      return this.answer(res, 401, upstream.dialect, `unauthorized: send ${TOKEN_HEADER}: <token>`);
    }
    const { origin, base } = this.origins.get(name)!;
    const rest = url.slice(1 + name.length);
    const path = `${base}${rest.startsWith('/') ? rest : `/${rest}`}`;
    const route: Route = { upstream, origin, path };
    const endpoint = endpointOf(req.method ?? 'GET', rest, upstream.dialect);
    if (endpoint === null) return this.passThrough(req, res, route, arrived);
    this.readBody(req, res, upstream.dialect, (body) => this.metered(req, res, route, endpoint, body));
  }

  private tokenMatches(given: string | undefined): boolean {
    const expected = this.tokenDigest!;
    return timingSafeEqual(digest(given ?? ''), expected) && given !== undefined;
  }

  /** /metrics and /healthz, under `flowmeter serve`'s rules: GET or HEAD, `Authorization: Bearer <token>` when a token is set. */
  private own(req: IncomingMessage, res: ServerResponse, path: string): void {
    req.resume();
    if (this.tokenDigest !== undefined) {
      const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(req.headers.authorization ?? '');
      if (!this.tokenMatches(match?.[1])) return this.json(res, 401, { error: 'unauthorized: send Authorization: Bearer <token>' }, { 'www-authenticate': 'Bearer realm="flowmeter"' });
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return this.json(res, 405, { error: `method ${req.method ?? '?'} not allowed; use GET` }, { allow: 'GET, HEAD' });
    if (path === '/healthz') {
      const d = this.meter.diagnostics();
      return this.json(res, 200, { status: 'ok', upstreams: Object.fromEntries([...this.upstreams.values()].map((u) => [u.name, u.url])), open_runs: this.runs.size, dropped_events: d.dropped_events, sink_errors: d.sink_errors });
    }
    const format = negotiate(req.headers.accept);
    const body = this.renderMetrics(format);
    res.writeHead(200, { 'content-type': format === 'openmetrics' ? OPENMETRICS_CONTENT_TYPE : TEXT_CONTENT_TYPE, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  private json(res: ServerResponse, status: number, body: Record<string, unknown>, headers: OutgoingHttpHeaders = {}): void {
    const text = JSON.stringify(body) + '\n';
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', ...headers });
    res.end(res.req.method === 'HEAD' ? undefined : text);
  }

  /** An answer of the proxy's own, in the upstream's error shape. */
  private answer(res: ServerResponse, status: number, dialect: Dialect, message: string, headers: OutgoingHttpHeaders = {}): void {
    const text = providerError(dialect, status, message);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
    res.end(text);
  }

  /** Collects a metered request's body up to maxBodyBytes; past it, 413 and the connection is closed. */
  private readBody(req: IncomingMessage, res: ServerResponse, dialect: Dialect, then: (body: Buffer) => void): void {
    const declared = Number(req.headers['content-length']);
    const tooLarge = (): void => {
      this.answer(res, 413, dialect, `request body is larger than ${this.maxBodyBytes} bytes, the proxy's limit (--max-body)`, { connection: 'close' });
      res.once('finish', () => req.destroy());
    };
    if (Number.isFinite(declared) && declared > this.maxBodyBytes) return tooLarge();
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      if (over) return;
      size += chunk.length;
      if (size > this.maxBodyBytes) {
        over = true;
        chunks.length = 0;
        tooLarge();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!over) then(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
    });
    req.on('error', () => undefined);
  }

  private passThrough(req: IncomingMessage, res: ServerResponse, route: Route, arrived: number): void {
    const { upstream } = route;
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD' && (req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined);
    const sent = performance.now();
    const up = sendUpstream(
      this.dispatcher,
      { origin: route.origin, path: route.path, method: req.method ?? 'GET', headers: upstreamRequestHeaders(req.headers, false), body: hasBody ? req : undefined },
      {
        onHead: (status, headers) => {
          const got = performance.now();
          const out = clientResponseHeaders(headers, false);
          const own = sent - arrived + (performance.now() - got);
          out[OVERHEAD_HEADER] = own.toFixed(3);
          res.writeHead(status, out);
          this.metrics.observeOverhead(upstream.name, 'other', own / 1000);
          this.metrics.request(upstream.name, 'other', status);
        },
        onData: (chunk) => res.write(chunk),
        onEnd: () => res.end(),
        onError: (err, afterHead) => {
          if (res.destroyed) return;
          if (afterHead) return void res.destroy(err);
          this.metrics.upstreamError(upstream.name);
          this.metrics.request(upstream.name, 'other', 502);
          this.answer(res, 502, upstream.dialect, `upstream ${upstream.name} unreachable: ${oneLine(err)}`);
        },
      },
    );
    res.on('drain', () => up.resume());
    res.on('close', () => {
      if (!res.writableFinished) up.abort(new Error('client disconnected'));
    });
  }

  private metered(req: IncomingMessage, res: ServerResponse, route: Route, endpoint: Endpoint, raw: Buffer): void {
    const ready = performance.now();
    const { upstream } = route;
    let parsed: Readonly<Record<string, unknown>> | undefined;
    let text: string | undefined;
    try {
      text = raw.toString('utf8');
      const value: unknown = JSON.parse(text);
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) parsed = value as Readonly<Record<string, unknown>>;
    } catch {
      // Not JSON: forwarded as it came, and the upstream's answer (a 400) goes back verbatim.
    }
    const model = typeof parsed?.model === 'string' && parsed.model !== '' ? parsed.model : undefined;
    const streaming = parsed?.stream === true;
    let send: Buffer | string = raw;
    let filter = false;
    if (endpoint === 'chat_completions' && parsed !== undefined && text !== undefined) {
      const injected = withIncludeUsage(text, parsed);
      if (injected !== null) {
        send = injected;
        filter = true;
      }
    }
    const a = attributionOf(req.headers);
    const keys: BudgetKeys = { app: a.appId, user: a.userId, session: a.sessionId, run: a.runId };
    const verdict = this.budgets.check(keys, Date.now());
    if (verdict !== null) return this.refuse(res, upstream, a, model, verdict.rule, verdict.used, verdict.retryAfter, endpoint);

    const headers = upstreamRequestHeaders(req.headers, filter);
    // The proxy rewrites a filtered stream, so it asks for it uncompressed.
    if (filter) headers['accept-encoding'] = 'identity';
    const { run, release } = this.guardedAcquire(a, model, upstream.name);
    const meta: CallMeta = { model: model ?? 'unknown', provider: upstream.name, stepId: a.stepId, streaming, usage: 'none' };
    const call = run === undefined ? undefined : new MeteredCall(run, meta, () => this.metrics.meteringFailure('internal_error'));

    let clientGone = false;
    let reader: ResponseReader | undefined;
    let status = 0;
    let own = 0;
    let bodyOwn = 0;
    const held: Buffer[] = [];
    let heldBytes = 0;
    const sent = performance.now();
    own = sent - ready;
    const finish = (upstreamError: Error | undefined): void => {
      const r = reader!;
      const s = performance.now();
      const rest = r.end();
      bodyOwn += performance.now() - s;
      if (!clientGone) {
        if (upstreamError !== undefined) res.destroy(upstreamError);
        else if (held.length > 0) res.end(held.length === 1 ? held[0] : Buffer.concat(held));
        else res.end(rest.length > 0 ? rest : undefined);
      }
      void r.settled().then(() => {
        const o = r.observer;
        if (o.malformed > 0) this.metrics.meteringFailure('malformed_body');
        if (r.unread) this.metrics.meteringFailure('unread_body');
        let err: Error | undefined;
        if (clientGone) err = new PartialResponse();
        else if (status >= 400) err = new UpstreamStatusError(status);
        else if (upstreamError !== undefined) err = upstreamError;
        else if (o.streamError !== null) err = new StreamError(o.streamError);
        if (clientGone) this.metrics.clientDisconnect(upstream.name);
        // A call that failed after content reached the client may have been billed: with no
        // usage seen, its usage is unknown (an empty report), not the nothing of a call that
        // failed before any output.
        const usage = o.result() ?? (err !== undefined && o.firstContent ? {} : undefined);
        this.settle(call, release, keys, usage, err, o.model, meta.model);
        this.metrics.observeOverhead(upstream.name, endpoint, (own + bodyOwn) / 1000);
        this.metrics.request(upstream.name, endpoint, status);
      });
    };
    const up = sendUpstream(
      this.dispatcher,
      { origin: route.origin, path: route.path, method: 'POST', headers, body: send },
      {
        onHead: (code, upHeaders) => {
          const got = performance.now();
          status = code;
          const type = headerValue(upHeaders, 'content-type') ?? '';
          const sse = type.includes('text/event-stream');
          const encoding = headerValue(upHeaders, 'content-encoding');
          // An upstream that compressed the stream although asked not to is forwarded as it
          // came: rewriting compressed bytes as text would corrupt them.
          const rewrite = filter && sse && (encoding === undefined || encoding === 'identity');
          reader = new ResponseReader(endpoint, sse, rewrite, encoding, () => call?.firstToken());
          const out = clientResponseHeaders(upHeaders, rewrite);
          own += performance.now() - got;
          out[OVERHEAD_HEADER] = own.toFixed(3);
          res.writeHead(code, out);
        },
        onData: (chunk) => {
          const s = performance.now();
          const r = reader!;
          const out = r.chunk(chunk);
          bodyOwn += performance.now() - s;
          if (clientGone || out.length === 0) return true;
          if (!r.sse) {
            // A JSON answer is of no use to the client before its last byte: held up to
            // HOLD_BYTES and sent with the end, it costs one socket write instead of two.
            held.push(out as Buffer);
            heldBytes += out.length;
            if (heldBytes < HOLD_BYTES) return true;
            const flush = held.length === 1 ? held[0]! : Buffer.concat(held);
            held.length = 0;
            heldBytes = 0;
            return res.write(flush);
          }
          return res.write(out);
        },
        onEnd: () => finish(undefined),
        onError: (err, afterHead) => {
          if (afterHead) return finish(clientGone ? undefined : err);
          if (clientGone) {
            this.metrics.clientDisconnect(upstream.name);
            // 499, nginx's "client closed request": the client left before the upstream answered.
            this.metrics.request(upstream.name, endpoint, 499);
            this.settle(call, release, keys, undefined, new PartialResponse(), undefined, meta.model);
            return;
          }
          this.metrics.upstreamError(upstream.name);
          this.metrics.request(upstream.name, endpoint, 502);
          this.settle(call, release, keys, undefined, err, undefined, meta.model);
          if (!res.headersSent) this.answer(res, 502, upstream.dialect, `upstream ${upstream.name} unreachable: ${oneLine(err)}`, { [OVERHEAD_HEADER]: own.toFixed(3) });
        },
      },
    );
    res.on('drain', () => up.resume());
    res.on('close', () => {
      if (!res.writableFinished) {
        clientGone = true;
        up.abort(new Error('client disconnected'));
      }
    });
  }

  private guardedAcquire(a: Attribution, model: string | undefined, provider: string): { run: ReturnType<RunRegistry['acquire']>['run'] | undefined; release: (end: ReturnType<typeof callEnd>) => void } {
    try {
      return this.runs.acquire(a, model, provider);
    } catch {
      this.metrics.meteringFailure('internal_error');
      return { run: undefined, release: () => undefined };
    }
  }

  private settle(call: MeteredCall | undefined, release: (end: ReturnType<typeof callEnd>) => void, keys: BudgetKeys, usage: Usage | undefined, err: Error | undefined, servedModel: string | undefined, model: string): void {
    try {
      call?.end(usage, err, servedModel);
      if (this.budgets.rules.length > 0) this.budgets.add(keys, Date.now(), this.costOf(servedModel ?? model, usage), tokensOf(usage));
    } catch {
      this.metrics.meteringFailure('internal_error');
    }
    // The run may end only after the meter has recorded the call into it.
    const end = callEnd(err);
    void (call?.recorded ?? Promise.resolve()).then(() => {
      try {
        release(end);
      } catch {
        this.metrics.meteringFailure('internal_error');
      }
    });
  }

  private costOf(model: string, usage: Usage | undefined): number | null {
    if (usage === undefined) return null;
    if (isReportedCost(usage.costUsd)) return usage.costUsd ?? null;
    if (usage.inputTokens === undefined || usage.outputTokens === undefined) return null;
    return this.prices.estimate(model, usage.inputTokens, usage.outputTokens, usage.cachedInputTokens, usage.cacheWriteTokens);
  }

  private refuse(res: ServerResponse, upstream: Upstream, a: Attribution, model: string | undefined, rule: BudgetRule, used: number, retryAfter: number | null, endpoint: Endpoint): void {
    try {
      this.runs.refuse(a, upstream.name, model);
    } catch {
      this.metrics.meteringFailure('internal_error');
    }
    this.metrics.budgetRejection(rule.scope);
    this.metrics.request(upstream.name, endpoint, 429);
    const shown = rule.metric === 'cost_usd' ? `$${used.toFixed(4)}` : `${used} tokens`;
    this.answer(res, 429, upstream.dialect, `budget exceeded: ${rule.spec} (used ${shown})`, retryAfter === null ? {} : { 'retry-after': String(retryAfter) });
  }
}

function tokensOf(usage: Usage | undefined): number | null {
  if (usage === undefined) return null;
  if (usage.totalTokens !== undefined) return usage.totalTokens;
  if (usage.inputTokens === undefined || usage.outputTokens === undefined) return null;
  return usage.inputTokens + usage.outputTokens;
}

/** Creates the metering proxy. Configuration mistakes throw here, with a message that says what to fix. */
export function createProxy(options: ProxyOptions): MeteringProxy {
  return new MeteringProxy(options);
}
