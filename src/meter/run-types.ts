import type { FlowEvent, Outcome, RetryReason, RunEvent, RunMeta } from '../model/index.js';
import type { Diagnostics } from './diagnostics.js';
import type { RunState } from './run-state.js';
import type { Usage, UsageOption } from './usage.js';

/** What the meter lends a run to record with. */
export interface MeterCore {
  readonly diagnostics: Diagnostics;
  /**
   * Records `event` on the hot path and queues it for the sinks; false when the queue
   * dropped it. `keep` queues it past a full queue (the end of a step whose start was
   * queued); `skip` records it on the hot path only (the end of a step whose start was dropped).
   */
  emit(event: FlowEvent, audit?: 'queue' | 'keep' | 'skip'): boolean;
  /** A promise to await before going on when the audit queue applies backpressure (`onFull: 'wait'`). */
  pressure(): Promise<void> | undefined;
  /** Cost of a call from the provider's figure or the price table; null when unknown. */
  cost(model: string, usage: Usage, provider?: string): { readonly cost_usd: number | null; readonly cost_source: 'provider' | 'price_table' | null };
  /** Runs `fn` with `stepId` as the current step of `state` for everything below it. */
  inStep<T>(state: RunState, stepId: string, fn: () => Promise<T>): Promise<T>;
  currentStep(state: RunState): string | null;
  inflight(flowId: string, delta: 1 | -1): void;
  finish(state: RunState, outcome: Outcome): RunFinish;
}

export interface RunFinish {
  readonly event: RunEvent;
  readonly summary: string;
}

export interface LlmCallMeta {
  readonly model: string;
  readonly provider?: string;
  /** What the call is for (zerg's `phase`): `initial`, `summary`, `synthesis`, … Default `default`. */
  readonly phase?: string;
  readonly stepId?: string;
  readonly streaming?: boolean;
  /** How to read usage from the result: a built-in shape or your own function. Default `auto`. */
  readonly usage?: UsageOption;
}

/** Handed to the function inside `llmCall`, for what only the caller can see. */
export interface LlmCallContext {
  /** Aborted when the run ends early (budget, timeout, cancel): pass it to fetch. */
  readonly signal: AbortSignal;
  /** Mark the first streamed token now (time to first token). */
  firstToken(): void;
  /** Report usage directly, e.g. from a stream's final chunk. Wins over the result's usage. */
  usage(usage: Usage): void;
  cacheHit(): void;
}

export interface StepMeta {
  readonly model?: string;
}

export interface StepTimer {
  /** Ends the step; idempotent. */
  end(success?: boolean, error?: string): void;
}


/** A run as user code sees it: inside `meter.run(…, async (run) => …)` or from `meter.flowStart(…)`. */
export interface Run {
  readonly id: string;
  readonly meta: RunMeta;
  readonly signal: AbortSignal;
  llmCall<T>(meta: LlmCallMeta, fn: (call: LlmCallContext) => Promise<T> | T): Promise<T>;
  toolCall<T>(name: string, fn: () => Promise<T> | T, opts?: { readonly stepId?: string }): Promise<T>;
  step<T>(id: string, fn: () => Promise<T> | T): Promise<T>;
  step<T>(id: string, meta: StepMeta, fn: () => Promise<T> | T): Promise<T>;
  stepTimer(id: string, meta?: StepMeta): StepTimer;
  retry(reason: RetryReason, backoffSeconds?: number, opts?: { readonly stepId?: string }): void;
  tokensIn(model: string, count: number): void;
  tokensOut(model: string, count: number): void;
  setOutcome(outcome: Outcome, errorType?: string): void;
  /** Ends a run opened with `flowStart`; returns the RunEvent and summary (undefined when metrics are off). */
  flowEnd(success?: boolean, reason?: string): RunFinish | undefined;
  /** The run's RunEvent and summary once it has ended; undefined before (and when metrics are off). */
  readonly finished: RunFinish | undefined;
}

