/**
 * Retry policy: which errors are worth another attempt (classified by reason, the enzu /
 * flowmeter `RetryReason` set, so the runtime can record them through the SDK's
 * `run.retry(reason, backoffSeconds)`), and how long to wait before it.
 */
import type { RetryReason } from '../../model/outcome.js';

export interface RetryOptions {
  /** Total attempts including the first; 1 disables retries. */
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** 0..1: the share of the backoff that is randomised away (0 = exact exponential backoff). */
  readonly jitter: number;
  /** null means "do not retry". Defaults to `classifyRetry`. */
  readonly classify?: (err: unknown) => RetryReason | null;
}

interface ErrorShape {
  readonly name?: unknown;
  readonly code?: unknown;
  readonly status?: unknown;
  readonly statusCode?: unknown;
  readonly retryAfterSeconds?: unknown;
}

/** What a workflow run uses unless told otherwise: three attempts, 0.5 s doubling to at most 20 s, 20% jitter. */
export const DEFAULT_RETRY: RetryOptions = { maxAttempts: 3, baseDelayMs: 500, maxDelayMs: 20_000, jitter: 0.2 };

const CONNECTION_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT']);

/**
 * The default classifier: HTTP 429 (or any error carrying Retry-After) is a rate limit,
 * 408/504 and TimeoutError a timeout, other 5xx a server error, socket codes a connection
 * error; anything else (a 400, a bug in a tool) is not retried — retrying it only burns budget.
 */
export function classifyRetry(err: unknown): RetryReason | null {
  if (typeof err !== 'object' || err === null) return null;
  const e = err as ErrorShape;
  const status = typeof e.status === 'number' ? e.status : typeof e.statusCode === 'number' ? e.statusCode : undefined;
  if (status === 429 || typeof e.retryAfterSeconds === 'number') return 'rate_limit';
  if (status === 408 || status === 504 || e.name === 'TimeoutError') return 'timeout';
  if (status !== undefined && status >= 500 && status < 600) return 'server_error';
  if (typeof e.code === 'string' && CONNECTION_CODES.has(e.code)) return 'connection_error';
  return null;
}

/** A server's Retry-After, in seconds, if the error carries one (`retryAfterSeconds`). */
export function retryAfterSeconds(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const v = (err as ErrorShape).retryAfterSeconds;
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined;
}

/**
 * Delay before retry number `retry` (1 = first retry): min(max, base * 2^(retry-1)),
 * minus up to `jitter` of it at random so many clients do not retry in lockstep.
 * A server's Retry-After wins over the computed backoff: it knows when it will recover.
 */
export function backoffMs(options: RetryOptions, retry: number, err: unknown, random: () => number): number {
  const after = retryAfterSeconds(err);
  if (after !== undefined) return after * 1000;
  const exp = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (retry - 1));
  return exp * (1 - options.jitter * random());
}

export function validateRetry(options: RetryOptions): void {
  const bad = (what: string): never => {
    throw new RangeError(`runGraph retry.${what}`);
  };
  if (!Number.isInteger(options.maxAttempts) || options.maxAttempts < 1) bad('maxAttempts must be an integer >= 1');
  if (!(options.baseDelayMs >= 0) || !(options.maxDelayMs >= options.baseDelayMs)) bad('needs 0 <= baseDelayMs <= maxDelayMs');
  if (!(options.jitter >= 0 && options.jitter <= 1)) bad('jitter must be within 0..1');
}
