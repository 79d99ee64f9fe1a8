import type { LlmCallContext, Run, Usage } from '../meter/index.js';
import { errorType } from '../meter/index.js';
import type { Outcome } from '../model/index.js';
import type { CallEnd } from './attribution.js';

/** The upstream answered with an error status; its body went to the client verbatim. */
export class UpstreamStatusError extends Error {
  override readonly name = 'UpstreamStatusError';
  constructor(readonly status: number) {
    super(`upstream answered ${status}`);
  }
}

/** The provider reported an error inside a 200 stream; `name` is its error type (`overloaded_error`). */
export class StreamError extends Error {
  constructor(type: string) {
    super(`error event in the stream: ${type}`);
    this.name = type;
  }
}

/** The client went away before the answer ended: the call is recorded with what was seen, as `partial`. */
export class PartialResponse extends Error {
  override readonly name = 'partial';
  constructor() {
    super('client disconnected before the response ended');
  }
}

export interface CallMeta {
  model: string;
  readonly provider: string;
  readonly phase?: string;
  readonly stepId?: string;
  /** Read when the call is recorded: a caller that learns late that the answer streamed may set it. */
  streaming: boolean;
  readonly usage: 'none';
}

/** How the proxy ends a call's run when the call ended with `err`. */
export function callEnd(err: Error | undefined): CallEnd {
  if (err === undefined) return 'success';
  if (err instanceof PartialResponse) return 'cancelled';
  const type = errorType(err);
  const outcome: Outcome = type === 'invalid_request' ? 'invalid_request' : 'provider_error';
  return outcome;
}

/**
 * One metered call on the meter: opened before the request goes upstream (its duration is
 * the client's view, upstream time included), settled when the answer has ended. Every
 * meter interaction is guarded: a failure in it is counted and the traffic goes on.
 */
export class MeteredCall {
  private ctx: LlmCallContext | undefined;
  private settle: ((err: Error | undefined) => void) | undefined;
  private done = false;
  /** Settles once the meter has recorded the call (its record is written in a promise callback). */
  readonly recorded: Promise<void>;

  constructor(
    run: Run,
    readonly meta: CallMeta,
    private readonly onInternalError: (err: unknown) => void,
  ) {
    let recorded: Promise<void> = Promise.resolve();
    try {
      recorded = run
        .llmCall(meta, (ctx) => {
          this.ctx = ctx;
          return new Promise<void>((resolve, reject) => {
            this.settle = (err) => (err === undefined ? resolve() : reject(err));
          });
        })
        // The meter hands the failure back to the caller; here it has been recorded already.
        .catch(() => undefined);
    } catch (err) {
      onInternalError(err);
    }
    this.recorded = recorded;
  }

  firstToken(): void {
    this.ctx?.firstToken();
  }

  end(usage: Usage | undefined, err: Error | undefined, model: string | undefined): void {
    if (this.done) return;
    this.done = true;
    try {
      if (model !== undefined && this.meta.model === 'unknown') this.meta.model = model;
      if (usage !== undefined) this.ctx?.usage(usage);
      this.settle?.(err);
    } catch (e) {
      this.onInternalError(e);
    }
  }
}
