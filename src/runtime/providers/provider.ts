/**
 * The one extension point the runtime calls for a model (STYLE 4): `complete` one chat
 * request. `SimulatedProvider` is the in-memory implementation and doubles as the test
 * fake; `OpenAIProvider` and `AnthropicProvider` speak the real wire formats.
 */

export interface ChatMessage {
  readonly role: 'system' | 'user' | 'assistant';
  readonly content: string;
}

export interface CompletionRequest {
  readonly model: string;
  readonly messages: readonly ChatMessage[];
  readonly maxTokens?: number;
  readonly temperature?: number;
  /** Stream the answer (default true): only a stream shows when the first token came. */
  readonly stream?: boolean;
  /** Aborting rejects the call with an `AbortError`, mid-stream included. */
  readonly signal?: AbortSignal;
  /**
   * Called once, when the first piece of answer text arrives (time to first token).
   * Never called for a non-streaming call, where that moment cannot be observed.
   */
  readonly onFirstToken?: () => void;
}

/** Same meaning as the meter's `Usage`: `inputTokens` counts cached tokens too. */
export interface CompletionUsage {
  readonly inputTokens?: number;
  readonly outputTokens?: number;
  readonly totalTokens?: number;
  readonly cachedInputTokens?: number;
  readonly cacheWriteTokens?: number;
  readonly costUsd?: number;
}

export interface CompletionResult {
  readonly text: string;
  /** The model that answered, as the provider names it (it may add a date suffix). */
  readonly model: string;
  readonly usage?: CompletionUsage;
  /** `stop`, `length`, ... (OpenAI) or `end_turn`, `max_tokens`, ... (Anthropic). */
  readonly finishReason?: string;
}

export interface Provider {
  readonly name: string;
  complete(request: CompletionRequest): Promise<CompletionResult>;
  close?(): Promise<void>;
}

/**
 * A failed call. `status` and `code` are what `errorType` (src/meter/errors.ts) reads:
 * 429 → rate_limit, 408 → timeout, 5xx → server_error, other 4xx → invalid_request,
 * `ECONNREFUSED`/`ECONNRESET`... → connection_error, `ETIMEDOUT` → timeout.
 */
export class ProviderError extends Error {
  override readonly name = 'ProviderError';
  constructor(
    message: string,
    readonly status?: number,
    /** How long the provider asked us to wait (Retry-After / retry-after-ms). */
    readonly retryAfterSeconds?: number,
    /** The socket error's code (`ECONNREFUSED`) or the API's error code/type. */
    readonly code?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A provider was configured wrongly (unknown name, missing key); thrown at construction. */
export class ProviderConfigError extends Error {
  override readonly name = 'ProviderConfigError';
}

/** Named like the DOM's abort error, so `outcomeOfError` reports the run as cancelled. */
export class ProviderAbortError extends Error {
  override readonly name = 'AbortError';
}

/**
 * The error an aborted call rejects with: the signal's own reason when it is an error
 * (`controller.abort()` gives a DOMException named AbortError, `AbortSignal.timeout()` a
 * TimeoutError, and the caller chose it), else an AbortError carrying the reason.
 */
export function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  return new ProviderAbortError('the call was aborted', { cause: reason });
}

/** Calls a caller's hook; a throwing hook must not fail the call it observes (DESIGN 3). */
export function notify(hook: (() => void) | undefined): void {
  try {
    hook?.();
  } catch {
    // The hook belongs to the caller's instrumentation, which reports its own failures.
  }
}

/** Where API keys and base URLs come from; `process.env` unless a test passes its own. */
export type ProviderEnv = Readonly<Record<string, string | undefined>>;

export function positiveMs(value: number, name: string): number {
  if (!(value > 0)) throw new ProviderConfigError(`${name} must be a positive number of milliseconds, got ${value}`);
  return value;
}
