import type { IncomingMessage } from 'node:http';
import type { Dispatcher } from 'undici';

export type UpstreamHeaders = Readonly<Record<string, string | string[] | undefined>>;

/** What happens to one upstream answer, in order: a head, chunks, then an end or an error. */
export interface UpstreamSink {
  onHead(status: number, headers: UpstreamHeaders): void;
  /** Returns false to pause the upstream until `resume()` (the client is not keeping up). */
  onData(chunk: Buffer): boolean;
  onEnd(): void;
  /** Before the head: no answer at all (refused, reset, DNS). After it: the body broke off. */
  onError(err: Error, afterHead: boolean): void;
}

export interface UpstreamRequest {
  abort(reason: Error): void;
  resume(): void;
}

export interface UpstreamOptions {
  readonly origin: string;
  readonly path: string;
  readonly method: string;
  readonly headers: Record<string, string | string[]>;
  readonly body: Buffer | string | IncomingMessage | undefined;
}

/**
 * One request upstream through undici's `dispatch`: callbacks straight from the HTTP
 * parser, with no response stream or promise per request (what `request()` adds costs
 * about as much CPU as the rest of the proxy's work on a call).
 */
export function sendUpstream(dispatcher: Dispatcher, options: UpstreamOptions, sink: UpstreamSink): UpstreamRequest {
  let controller: Dispatcher.DispatchController | undefined;
  let pendingAbort: Error | undefined;
  let head = false;
  // Dropped once the answer has ended: undici's timers keep the handler for up to a second
  // after that, and through the sink it would keep the whole call (request body, run,
  // reader) alive long enough to reach the old generation — a third more GC work.
  let open: UpstreamSink | undefined = sink;
  const settle = (): UpstreamSink | undefined => {
    const s = open;
    open = undefined;
    controller = undefined;
    return s;
  };
  const handler: Dispatcher.DispatchHandler = {
    onRequestStart(c) {
      controller = c;
      if (pendingAbort !== undefined) c.abort(pendingAbort);
    },
    onResponseStart(_c, statusCode, headers) {
      // 1xx answers (100 Continue, 103 Early Hints) are not the answer.
      if (statusCode < 200) return;
      head = true;
      open?.onHead(statusCode, headers);
    },
    onResponseData(c, chunk) {
      if (open !== undefined && !open.onData(chunk)) c.pause();
    },
    onResponseEnd() {
      settle()?.onEnd();
    },
    onResponseError(_c, err) {
      settle()?.onError(err, head);
    },
  };
  try {
    dispatcher.dispatch({ origin: options.origin, path: options.path, method: options.method, headers: options.headers, body: options.body }, handler);
  } catch (err) {
    // A request undici refuses before sending (an invalid header value): no answer at all.
    const s = settle();
    queueMicrotask(() => s?.onError(err instanceof Error ? err : new Error(String(err)), false));
  }
  return {
    abort(reason) {
      if (controller !== undefined) controller.abort(reason);
      else pendingAbort = reason;
    },
    resume() {
      controller?.resume();
    },
  };
}
