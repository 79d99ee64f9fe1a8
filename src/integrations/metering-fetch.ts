import { ReadableStream } from 'node:stream/web';
import type { ReadableStreamReadResult } from 'node:stream/web';
import { createMeter } from '../meter/index.js';
import type { Meter, Run } from '../meter/index.js';
import type { RetryReason } from '../model/index.js';
import { endpointOf } from '../proxy/endpoints.js';
import { withIncludeUsage } from '../proxy/include-usage.js';
import { MeteredCall, PartialResponse, StreamError, UpstreamStatusError } from '../proxy/metered-call.js';
import { ResponseReader } from '../proxy/response-reader.js';
import type { Dialect } from '../proxy/upstreams.js';

/** What an integration records its calls under. */
export interface ObserveOptions {
  /** The meter to record on. Default: one meter shared by the process (`defaultMeter()`). */
  readonly meter?: Meter;
  /** The flow a call outside any run is recorded as (its own run). Default: the provider's name. */
  readonly flowId?: string;
  readonly agent?: string;
  /** The `phase` label of every call. */
  readonly phase?: string;
  /** The provider name on the calls. Default `openai` or `anthropic`. */
  readonly provider?: string;
}

let shared: Meter | undefined;

/** The meter integrations use when given none: created on first use with `createMeter()`'s defaults. */
export function defaultMeter(): Meter {
  shared ??= createMeter();
  return shared;
}

/** The run a call is recorded on: the caller's current run, or one of its own that `end` closes. */
export interface CallScope {
  readonly run: Run;
  /** True when the run is the call's own. */
  readonly own: boolean;
  /** Ends a run of its own (a failure by the error's name); nothing for the caller's run. */
  end(err: Error | undefined): void;
}

/** Every integration's rule: inside `meter.run` a call joins that run; outside one it is a run of its own. */
export function callScope(options: ObserveOptions, fallbackFlow: string): CallScope {
  const meter = options.meter ?? defaultMeter();
  const outer = meter.current();
  if (outer !== undefined) return { run: outer, own: false, end: () => undefined };
  const run = meter.flowStart({ flowId: options.flowId ?? fallbackFlow, ...(options.agent === undefined ? {} : { agent: options.agent }) });
  return { run, own: true, end: (err) => void run.flowEnd(err === undefined, err?.name) };
}

type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

type Obj = Readonly<Record<string, unknown>>;

const encoder = new TextEncoder();

function urlOf(input: string | URL | Request): string {
  return typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
}

function header(init: RequestInit | undefined, name: string): string | null {
  const h = init?.headers;
  if (h === undefined) return null;
  if (h instanceof Headers) return h.get(name);
  if (Array.isArray(h)) return (h as [string, string][]).find(([k]) => k.toLowerCase() === name)?.[1] ?? null;
  const record = h as Record<string, string>;
  for (const key of Object.keys(record)) if (key.toLowerCase() === name) return record[key] ?? null;
  return null;
}

function retryReasonOf(status: number | undefined, err: unknown): RetryReason {
  if (status === 429) return 'rate_limit';
  if (status !== undefined && status >= 500) return 'server_error';
  if (err instanceof Error && err.name === 'AbortError') return 'timeout';
  return 'connection_error';
}

/**
 * A `fetch` that measures every metered call (Chat Completions, Responses, Embeddings,
 * Messages) a provider SDK makes through it, on the current run (or a run of its own
 * outside one), and hands the SDK the response unchanged: a stream is passed on chunk by
 * chunk as it arrives, read beside by the proxy's own parsers (usage, time to first
 * content token, error events). A streamed Chat Completions request that did not ask for
 * usage asks for it, and the extra usage chunk is removed from what the SDK reads. Retries
 * the SDK makes (its `x-stainless-retry-count` header) are recorded as retries.
 */
export function meteringFetch(base: FetchLike, dialect: Dialect, options: ObserveOptions): FetchLike {
  const provider = options.provider ?? dialect;
  // The reason the previous attempt of a request failed, for the retry that follows it.
  let lastFailure: RetryReason = 'server_error';
  return async (input, init) => {
    const url = urlOf(input);
    const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
    const endpoint = endpointOf(method, new URL(url).pathname, dialect);
    const text = typeof init?.body === 'string' ? init.body : undefined;
    if (endpoint === null || text === undefined) return base(input, init);
    let body: Obj = {};
    try {
      body = JSON.parse(text) as Obj;
    } catch {
      return base(input, init);
    }
    const streaming = body.stream === true;
    const rewritten = endpoint === 'chat_completions' ? withIncludeUsage(text, body) : null;
    const scope = callScope(options, provider);
    const run = scope.run;
    const attempt = Number(header(init, 'x-stainless-retry-count') ?? 0);
    if (attempt > 0) run.retry(lastFailure);
    const model = typeof body.model === 'string' ? body.model : 'unknown';
    const call = new MeteredCall(run, { model, provider, streaming, usage: 'none', ...(options.phase === undefined ? {} : { phase: options.phase }) }, () => undefined);
    const finish = (usage: Parameters<MeteredCall['end']>[0], err: Error | undefined, served: string | undefined): void => {
      call.end(usage, err, served);
      if (scope.own) void call.recorded.then(() => scope.end(err));
    };

    let res: Response;
    try {
      res = await base(input, rewritten === null ? init : { ...init, body: rewritten });
    } catch (err) {
      lastFailure = retryReasonOf(undefined, err);
      finish(undefined, err as Error, undefined);
      throw err;
    }
    if (!res.ok || res.body === null) {
      // The SDK reads an error body itself to raise its own error class: it is left unread.
      if (!res.ok) lastFailure = retryReasonOf(res.status, undefined);
      finish(undefined, res.ok ? undefined : new UpstreamStatusError(res.status), undefined);
      return res;
    }
    const sse = (res.headers.get('content-type') ?? '').includes('text/event-stream');
    // fetch has already decoded any content-encoding: the body is read as it is.
    const reader = new ResponseReader(endpoint, sse, rewritten !== null && sse, undefined, () => call.firstToken());
    const upstream = (res.body as unknown as ReadableStream<Uint8Array>).getReader();
    let settled = false;
    const settle = (err: Error | undefined): void => {
      if (settled) return;
      settled = true;
      const o = reader.observer;
      // An error event seen in the stream explains its end better than the caller's cancel that followed it.
      const streamErr = o.streamError !== null ? new StreamError(o.streamError) : err;
      const usage = o.result() ?? (streamErr !== undefined && o.firstContent ? {} : undefined);
      finish(usage, streamErr, o.model);
    };
    const stream = new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          const next: ReadableStreamReadResult<Uint8Array> = await upstream.read();
          if (next.done) {
            const rest = reader.end();
            if (rest.length > 0) controller.enqueue(encoder.encode(rest));
            controller.close();
            await reader.settled();
            settle(undefined);
            return;
          }
          const value = next.value;
          const out = reader.chunk(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
          if (out.length > 0) controller.enqueue(typeof out === 'string' ? encoder.encode(out) : new Uint8Array(out));
        } catch (err) {
          settle(err as Error);
          controller.error(err);
        }
      },
      async cancel(reason) {
        // The caller stopped reading: the call is recorded with what was seen, as partial.
        settle(new PartialResponse());
        await upstream.cancel(reason);
      },
    });
    // The body is fetch's decoded body (and may be shorter than the upstream's): its length and encoding are not the upstream's.
    const headers = new Headers(res.headers);
    headers.delete('content-length');
    headers.delete('content-encoding');
    return new Response(stream, { status: res.status, statusText: res.statusText, headers });
  };
}
