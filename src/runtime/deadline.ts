/**
 * A network call with a deadline, shared by the providers and the `http_request` tool: the
 * call's signal aborts on the caller's signal or after `timeoutMs` — for the whole call, a
 * streamed body included, so a stalled stream cannot hang a run. Each caller turns the three
 * ways it can end badly (the caller aborted, the deadline passed, the call failed) into its
 * own error type.
 */

export interface DeadlineOptions {
  readonly signal?: AbortSignal;
  readonly timeoutMs: number;
  /** The error for the caller's own abort. */
  readonly aborted: (signal: AbortSignal) => Error;
  /** The error for any other failure; `timedOut` says whether the deadline caused it. */
  readonly failed: (err: unknown, timedOut: boolean) => Error;
}

export async function withDeadline<T>(options: DeadlineOptions, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const { signal, timeoutMs } = options;
  if (signal?.aborted) throw options.aborted(signal);
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  // Leak free: the listener on the caller's signal goes when the call ends.
  const onAbort = (): void => controller.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return await call(controller.signal);
  } catch (err) {
    if (signal?.aborted) throw options.aborted(signal);
    throw options.failed(err, timedOut);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * The first string `code` along an error's `cause` chain: Node's fetch rejects with
 * `TypeError: fetch failed` (or `terminated` mid-body) and puts the socket error there.
 */
export function errorCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 5 && typeof e === 'object' && e !== null; depth++) {
    const { code, cause } = e as { code?: unknown; cause?: unknown };
    if (typeof code === 'string') return code;
    e = cause;
  }
  return undefined;
}

/** The messages along an error's `cause` chain, joined: `fetch failed: connect ECONNREFUSED …`. */
export function errorMessages(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err, depth = 0; depth < 5 && e instanceof Error; depth++, e = e.cause) {
    if (e.message.length > 0) parts.push(e.message);
  }
  return parts.length > 0 ? parts.join(': ') : String(err);
}
