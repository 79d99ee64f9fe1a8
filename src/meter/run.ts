import type { LlmCall, Outcome, RetryReason, RunMeta } from '../model/index.js';
import { capName, MAX_COST_PER_CALL_USD, MAX_TOKENS_PER_CALL, invalidCost, invalidNonNegative, invalidTokenCount, isOutcome, isRetryReason } from '../model/index.js';
import { elapsedMs, isoAt, monotonicMs } from './clock.js';
import { errorType, outcomeOfError } from './errors.js';
import type { RunState } from './run-state.js';
import type { LlmCallContext, LlmCallMeta, MeterCore, Run, RunFinish, StepMeta, StepTimer } from './run-types.js';
import type { Usage, UsageOption } from './usage.js';
import { usageExtractor } from './usage.js';

export type { LlmCallContext, LlmCallMeta, MeterCore, Run, RunFinish, StepMeta, StepTimer } from './run-types.js';

const USAGE_FIELDS = ['inputTokens', 'outputTokens', 'totalTokens', 'cachedInputTokens', 'cacheWriteTokens', 'costUsd'] as const;

/** Diagnostics name a dropped field as the event does (`input_tokens:negative`, DiagnosticsSnapshot). */
const USAGE_FIELD_NAMES: Readonly<Record<(typeof USAGE_FIELDS)[number], string>> = {
  inputTokens: 'input_tokens',
  outputTokens: 'output_tokens',
  totalTokens: 'total_tokens',
  cachedInputTokens: 'cached_input_tokens',
  cacheWriteTokens: 'cache_write_tokens',
  costUsd: 'cost_usd',
};

const NO_COST = { cost_usd: null, cost_source: null } as const;

class CallContext implements LlmCallContext {
  firstTokenMs: number | null = null;
  reported: Usage | undefined;
  hit = false;
  constructor(readonly signal: AbortSignal) {}
  firstToken(): void {
    if (this.firstTokenMs === null) this.firstTokenMs = monotonicMs();
  }
  usage(usage: Usage): void {
    this.reported = usage;
  }
  cacheHit(): void {
    this.hit = true;
  }
}

/**
 * One open run. Every method records against this run no matter where it is called
 * from, so code that holds the handle never depends on async context. Recording is
 * wrapped so that a measurement failure is counted and never reaches the caller.
 */
export class RunHandle implements Run {
  constructor(
    private readonly core: MeterCore,
    /** @internal The meter reads it to end the run; user code has no use for it. */
    readonly state: RunState,
  ) {}

  get id(): string {
    return this.state.meta.run_id;
  }

  get meta(): RunMeta {
    return this.state.meta;
  }

  /** Aborted with the reason when the run ends early (budget, timeout, cancel). */
  get signal(): AbortSignal {
    return this.state.signal;
  }

  llmCall<T>(meta: LlmCallMeta, fn: (call: LlmCallContext) => Promise<T> | T): Promise<T> {
    const { state } = this;
    // A run whose budget is spent makes no more paid calls: that is what the budget is for.
    if (state.signal.aborted) return Promise.reject(state.signal.reason as Error);
    const call = new CallContext(state.signal);
    const start = monotonicMs();
    let pending: Promise<T> | T;
    try {
      pending = fn(call);
    } catch (err) {
      // The caller's own error, passed through unchanged whatever it is.
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      return Promise.reject(this.llmFailed(meta, call, start, err));
    }
    // One `then` instead of an async function: with AsyncLocalStorage's promise hooks on
    // (Node 20), every promise costs a hook call, and an async function with an await
    // makes more of them than this does.
    return Promise.resolve(pending).then(
      (result) => {
        this.safeRecordLlm(meta, call, start, result, undefined);
        // Backpressure (onFull: 'wait'): the caller's next call waits for the sinks.
        const wait = this.core.pressure();
        return wait === undefined ? result : wait.then(() => result);
      },
      (err: unknown) => {
        throw this.llmFailed(meta, call, start, err);
      },
    );
  }

  /** Records a failed call and hands back the error, unchanged, for the caller to see. */
  private llmFailed(meta: LlmCallMeta, call: CallContext, start: number, err: unknown): unknown {
    this.safeRecordLlm(meta, call, start, undefined, err);
    this.state.noteFailure('llm', err);
    return err;
  }

  // try/catch inline rather than through `guard(() => …)`: no closure per call on the hot path.
  private safeRecordLlm(meta: LlmCallMeta, call: CallContext, start: number, result: unknown, err: unknown): void {
    try {
      this.recordLlm(meta, call, start, result, err);
    } catch (internal) {
      this.core.diagnostics.internalError(internal);
    }
  }

  private recordLlm(meta: LlmCallMeta, call: CallContext, start: number, result: unknown, err: unknown): void {
    const end = monotonicMs();
    const { state, core } = this;
    if (state.ended) return core.diagnostics.lateEvent();
    const failed = err !== undefined;
    const usage = this.cleanUsage(call.reported ?? (failed ? undefined : this.extract(meta.usage, result)));
    const input = usage?.inputTokens ?? null;
    const output = usage?.outputTokens ?? null;
    const total = usage?.totalTokens ?? (input !== null && output !== null ? input + output : null);
    const cached = usage?.cachedInputTokens ?? (input !== null ? 0 : null);
    // Names become labels: cut to a bound here, once, and never `undefined` (model/values.ts).
    const provider = capName(meta.provider);
    const model = capName(meta.model);
    const { cost_usd, cost_source } = usage ? core.cost(model, usage, provider) : NO_COST;
    // A failed call that reported nothing billed nothing we can see: it leaves the run's
    // totals known. A successful call without usage makes them unknown.
    if (!failed || usage) {
      state.addTokens(input, output, total, cached);
      state.addCost(cost_usd);
    }
    state.llmCalls++;
    state.noteModel(provider, model);
    const error = failed ? errorType(err) : null;
    if (error !== null) state.errorType = error;
    const event: LlmCall = {
      kind: 'llm_call',
      run_id: state.meta.run_id,
      flow_id: state.meta.flow_id,
      agent: state.meta.agent,
      step_id: meta.stepId === undefined ? core.currentStep(state) : capName(meta.stepId),
      provider,
      model,
      phase: meta.phase === undefined ? 'default' : capName(meta.phase),
      start_ts: isoAt(start),
      end_ts: isoAt(end),
      duration_ms: elapsedMs(start, end),
      ttft_ms: call.firstTokenMs === null ? null : elapsedMs(start, call.firstTokenMs),
      input_tokens: input,
      output_tokens: output,
      total_tokens: total,
      cached_input_tokens: cached,
      cost_usd,
      cost_source,
      streaming: meta.streaming ?? call.firstTokenMs !== null,
      cache_hit: call.hit,
      error_type: error,
    };
    core.emit(event);
    state.checkBudget();
  }

  /** A user extractor that throws leaves the call's usage unknown; the call is still recorded. */
  private extract(option: UsageOption | undefined, result: unknown): Usage | undefined {
    try {
      return usageExtractor(option)?.(result);
    } catch (err) {
      this.core.diagnostics.internalError(err);
      return undefined;
    }
  }

  /** Drops (and counts) every usage field that is not a finite non-negative number. */
  private cleanUsage(usage: Usage | undefined): Usage | undefined {
    if (usage === undefined) return undefined;
    // Named reads, not `usage[field]` in a loop: keyed access by a variable name is a
    // megamorphic lookup, and this runs on every call.
    if (
      usableCount(usage.inputTokens) &&
      usableCount(usage.outputTokens) &&
      usableCount(usage.totalTokens) &&
      usableCount(usage.cachedInputTokens) &&
      usableCount(usage.cacheWriteTokens) &&
      usableCost(usage.costUsd)
    ) {
      return usage;
    }
    let clean: Record<string, number> | undefined;
    for (const field of USAGE_FIELDS) {
      const value = usage[field];
      if (value === undefined) continue;
      const invalid = field === 'costUsd' ? invalidCost(value) : invalidTokenCount(value);
      if (invalid) this.core.diagnostics.droppedValue(USAGE_FIELD_NAMES[field], invalid, value);
      else (clean ??= {})[field] = value;
    }
    return clean;
  }

  async toolCall<T>(name: string, fn: () => Promise<T> | T, opts: { readonly stepId?: string } = {}): Promise<T> {
    const start = monotonicMs();
    try {
      const result = await fn();
      this.guard(() => this.recordTool(name, opts.stepId, start, undefined));
      const wait = this.core.pressure();
      if (wait !== undefined) await wait;
      return result;
    } catch (err) {
      this.guard(() => this.recordTool(name, opts.stepId, start, err));
      this.state.noteFailure('tool', err);
      throw err;
    }
  }

  private recordTool(tool: string, stepId: string | undefined, start: number, err: unknown): void {
    const end = monotonicMs();
    const { state, core } = this;
    if (state.ended) return core.diagnostics.lateEvent();
    const failed = err !== undefined;
    state.toolCalls++;
    if (failed) state.errorType = errorType(err);
    core.emit({
      kind: 'tool_call',
      run_id: state.meta.run_id,
      flow_id: state.meta.flow_id,
      agent: state.meta.agent,
      step_id: stepId === undefined ? core.currentStep(state) : capName(stepId),
      tool: capName(tool),
      start_ts: isoAt(start),
      end_ts: isoAt(end),
      duration_ms: elapsedMs(start, end),
      success: !failed,
      error: failed ? errorMessage(err) : null,
    });
  }

  step<T>(id: string, fn: () => Promise<T> | T): Promise<T>;
  step<T>(id: string, meta: StepMeta, fn: () => Promise<T> | T): Promise<T>;
  async step<T>(id: string, metaOrFn: StepMeta | (() => Promise<T> | T), maybeFn?: () => Promise<T> | T): Promise<T> {
    const [meta, fn] = typeof metaOrFn === 'function' ? [{}, metaOrFn] : [metaOrFn, maybeFn];
    if (fn === undefined) throw new TypeError('step(id, meta, fn): fn is required');
    const timer = this.stepTimer(id, meta);
    try {
      const result = await this.core.inStep(this.state, id, async () => fn());
      timer.end(true);
      return result;
    } catch (err) {
      timer.end(false, errorType(err));
      throw err;
    }
  }

  /** ARX's `step` timer for code that is not a callback: `const t = run.stepTimer('plan'); …; t.end()`. */
  stepTimer(stepId: string, meta: StepMeta = {}): StepTimer {
    const { state, core } = this;
    const start = monotonicMs();
    const id = capName(stepId);
    const model = meta.model === undefined || meta.model === null ? null : capName(meta.model);
    let open = true;
    // Whether the audit queue took the step's start: its end is then always queued, and
    // never when the start was dropped, so a reader of events.jsonl (flowmeter serve) never
    // holds a step in flight that has ended.
    let startQueued = false;
    const finish = (success: boolean, error: string | null): void => {
      open = false;
      state.openSteps.delete(close);
      const end = monotonicMs();
      core.inflight(state.meta.flow_id, -1);
      core.emit(
        {
          kind: 'step_finished',
          run_id: state.meta.run_id,
          flow_id: state.meta.flow_id,
          step_id: id,
          agent: state.meta.agent,
          model,
          exec_mode: state.meta.exec_mode,
          start_ts: isoAt(start),
          end_ts: isoAt(end),
          duration_ms: elapsedMs(start, end),
          success,
          error,
        },
        startQueued ? 'keep' : 'skip',
      );
    };
    // Called by the meter when the run ends first (timeout, budget): every step_started
    // gets its step_finished, so in-flight gauges built from events return to zero.
    const close = (): void => {
      if (open) this.guard(() => finish(false, 'run_ended'));
    };
    this.guard(() => {
      if (state.ended) {
        // Nothing to pair with an end: the step is neither emitted nor counted in flight.
        open = false;
        return core.diagnostics.lateEvent();
      }
      state.steps++;
      state.openSteps.add(close);
      core.inflight(state.meta.flow_id, 1);
      startQueued = core.emit({ kind: 'step_started', run_id: state.meta.run_id, flow_id: state.meta.flow_id, step_id: id, agent: state.meta.agent, model, ts: isoAt(start) });
    });
    return {
      end: (success = true, error?: string) => {
        if (!open) return;
        this.guard(() => finish(success, success ? null : (error ?? 'Error')));
      },
    };
  }


  /** Records one retry (enzu's reasons). An unknown reason is kept as `unknown` and counted. */
  retry(reason: RetryReason, backoffSeconds = 0, opts: { readonly stepId?: string } = {}): void {
    this.guard(() => {
      const { state, core } = this;
      if (state.ended) return core.diagnostics.lateEvent();
      let why: RetryReason = reason;
      if (!isRetryReason(reason)) {
        core.diagnostics.droppedValue('retry_reason', 'unknown_name', reason);
        why = 'unknown';
      }
      let backoff = backoffSeconds;
      const invalid = invalidNonNegative(backoff);
      if (invalid) {
        core.diagnostics.droppedValue('backoff_seconds', invalid, backoff);
        backoff = 0;
      }
      const stepId = opts.stepId ?? core.currentStep(state);
      state.retries++;
      state.retriesByReason[why] = (state.retriesByReason[why] ?? 0) + 1;
      state.retryBackoffSeconds += backoff;
      core.emit({
        kind: 'retry',
        run_id: state.meta.run_id,
        flow_id: state.meta.flow_id,
        agent: state.meta.agent,
        step_id: stepId,
        reason: why,
        attempt: state.nextAttempt(stepId),
        backoff_seconds: backoff,
        ts: isoAt(monotonicMs()),
      });
    });
  }

  /** ARX's `tokens_in`: input tokens spent outside an `llmCall`, priced by `model` when known. */
  tokensIn(model: string, count: number): void {
    this.addLooseTokens(model, count, 'in');
  }

  /** ARX's `tokens_out`. */
  tokensOut(model: string, count: number): void {
    this.addLooseTokens(model, count, 'out');
  }

  private addLooseTokens(modelName: string, count: number, direction: 'in' | 'out'): void {
    this.guard(() => {
      const { state, core } = this;
      const model = capName(modelName);
      if (state.ended) return core.diagnostics.lateEvent();
      const invalid = invalidTokenCount(count);
      if (invalid) return core.diagnostics.droppedValue(direction === 'in' ? 'tokens_in' : 'tokens_out', invalid, count);
      const usage: Usage = direction === 'in' ? { inputTokens: count, outputTokens: 0 } : { inputTokens: 0, outputTokens: count };
      const { cost_usd } = core.cost(model, usage);
      state.addTokens(usage.inputTokens ?? 0, usage.outputTokens ?? 0, count, 0);
      state.addCost(cost_usd);
      core.emit({
        kind: 'tokens',
        run_id: state.meta.run_id,
        flow_id: state.meta.flow_id,
        agent: state.meta.agent,
        step_id: core.currentStep(state),
        model,
        direction,
        count,
        cost_usd,
        ts: isoAt(monotonicMs()),
      });
      state.checkBudget();
    });
  }

  /** Sets the outcome the run ends with when its function returns normally (e.g. `verification_failed`). */
  setOutcome(outcome: Outcome, errorTypeName?: string): void {
    if (!isOutcome(outcome)) {
      this.core.diagnostics.droppedValue('outcome', 'unknown_name', outcome);
      return;
    }
    this.state.outcome = outcome;
    // A handled failure earlier in the run (a retried 429) is not why it ended this way.
    this.state.errorType = errorTypeName ?? null;
  }

  /**
   * ARX's `flow_end(success, reason)`: ends a run opened with `flowStart`. `reason` is an
   * outcome name or an error class name (then the outcome is `tool_error`). Idempotent:
   * a second call returns the first result.
   */
  flowEnd(success = true, reason?: string): RunFinish {
    if (this.finished) return this.finished;
    const { state } = this;
    if (state.signal.aborted) {
      // A crossed budget (or a cancel) decides the outcome whatever the caller reports, as in `meter.run`.
      state.errorType = errorType(state.signal.reason);
      return this.end(outcomeOfError(state.signal.reason, null), reason);
    }
    return this.end(success ? (state.outcome ?? 'success') : failureOutcome(state, reason), reason);
  }

  #finished: RunFinish | undefined;

  get finished(): RunFinish | undefined {
    return this.#finished;
  }

  /** @internal Ends the run with `outcome`; used by `meter.run` and `flowEnd`. */
  end(outcome: Outcome, errorTypeName?: string): RunFinish {
    if (this.#finished) return this.#finished;
    if (outcome !== 'success' && errorTypeName !== undefined && !isOutcome(errorTypeName)) this.state.errorType = errorTypeName;
    this.#finished = this.core.finish(this.state, outcome);
    return this.#finished;
  }

  private guard(record: () => void): void {
    try {
      record();
    } catch (err) {
      this.core.diagnostics.internalError(err);
    }
  }
}

// Bounds as in model/values.ts (invalidTokenCount, invalidCost), inlined for the hot path.
function usableCount(value: number | undefined): boolean {
  return value === undefined || (typeof value === 'number' && value >= 0 && value <= MAX_TOKENS_PER_CALL);
}

function usableCost(value: number | undefined): boolean {
  return value === undefined || (typeof value === 'number' && value >= 0 && value <= MAX_COST_PER_CALL_USD);
}

function failureOutcome(state: RunState, reason: string | undefined): Outcome {
  if (reason !== undefined && isOutcome(reason)) return reason;
  if (state.outcome !== null && state.outcome !== 'success') return state.outcome;
  return state.lastFailure === 'llm' ? 'provider_error' : 'tool_error';
}


const MAX_ERROR_LENGTH = 500;

function errorMessage(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.length > MAX_ERROR_LENGTH ? `${message.slice(0, MAX_ERROR_LENGTH)}…` : message;
}
