/**
 * One HTTP call to a provider, with its failure modes turned into errors `errorType`
 * classifies: an HTTP status, a socket code, a timeout, or the caller's abort.
 */
import type { Json } from './json.js';
import { obj, parseObject } from './json.js';
import { ProviderError, abortError } from './provider.js';
import { errorCode, errorMessages, withDeadline } from '../deadline.js';

export interface TransportOptions {
  /** Who is calling, for messages: `openai`, `anthropic`. */
  readonly provider: string;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

/**
 * Runs `call` with a signal that aborts on the caller's signal or after `timeoutMs` — for
 * the whole call, the streamed body included, so a stalled stream cannot hang a run.
 */
export function withTransport<T>(options: TransportOptions, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const { timeoutMs, provider } = options;
  return withDeadline(
    {
      ...(options.signal !== undefined ? { signal: options.signal } : {}),
      timeoutMs,
      aborted: abortError,
      failed: (err, timedOut) => {
        if (timedOut) return new ProviderError(`${provider} request timed out after ${timeoutMs}ms`, undefined, undefined, 'ETIMEDOUT', { cause: err });
        if (err instanceof ProviderError) return err;
        return new ProviderError(`${provider} request failed: ${errorMessages(err)}`, undefined, undefined, errorCode(err), { cause: err });
      },
    },
    call,
  );
}

/** POSTs a JSON body. */
export function postJson(url: string, headers: Readonly<Record<string, string>>, body: unknown, signal: AbortSignal): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    signal,
  });
}

export function answersJson(response: Response): boolean {
  return (response.headers.get('content-type') ?? '').includes('application/json');
}

/**
 * The error for a non-2xx answer. Both APIs put a human message in `error.message`
 * (OpenAI: `{ error: { message, type, code } }`; Anthropic: `{ type: 'error', error:
 * { type, message } }`); anything else is quoted, shortened.
 */
export async function errorFromResponse(provider: string, response: Response): Promise<ProviderError> {
  const text = await response.text().catch(() => '');
  const message = apiErrorMessage(text) ?? (text.trim().slice(0, 300) || response.statusText);
  return new ProviderError(`${provider} ${response.status}: ${message}`, response.status, retryAfterSeconds(response.headers), apiErrorCode(text));
}

function apiError(text: string): Json | undefined {
  return obj(parseObject(text)?.error);
}

function apiErrorMessage(text: string): string | undefined {
  const message = apiError(text)?.message;
  return typeof message === 'string' ? message : undefined;
}

/** OpenAI's `error.code` (`rate_limit_exceeded`), else Anthropic's `error.type`. */
function apiErrorCode(text: string): string | undefined {
  const error = apiError(text);
  const code = error?.code ?? error?.type;
  return typeof code === 'string' ? code : undefined;
}

/**
 * How long to wait, in seconds. OpenAI sends `retry-after-ms` beside `retry-after`, and
 * its SDK prefers the former; `Retry-After` itself is delta-seconds or an HTTP date
 * (RFC 9110 §10.2.3).
 */
export function retryAfterSeconds(headers: Headers, now: number = Date.now()): number | undefined {
  const ms = Number.parseFloat(headers.get('retry-after-ms') ?? '');
  if (Number.isFinite(ms) && ms >= 0) return ms / 1000;
  const value = headers.get('retry-after')?.trim();
  if (value === undefined || value === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Number.parseFloat(value);
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, (date - now) / 1000);
}
