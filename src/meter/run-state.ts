import type { BudgetLimit, Outcome, RetryReason, RunEvent, RunMeta } from '../model/index.js';
import { isoAt, roundUsd } from './clock.js';
import { BudgetExceededError, RunCancelledError, RunTimeoutError } from './errors.js';
import type { FailureSource } from './errors.js';
import type { Run } from './run.js';

/** Per-run limits. Crossing one ends the run with `budget_exceeded` (or `timeout`). */
export interface Budget {
  readonly maxTokens?: number;
  readonly maxCostUsd?: number;
  readonly timeoutMs?: number;
}

const PARTIAL_OUTCOMES: ReadonlySet<Outcome> = new Set(['budget_exceeded', 'timeout', 'cancelled']);

/**
 * Everything measured about one open run. Totals are exact sums of the calls recorded;
 * a total is unknown (null) as soon as one contributing call could not say its value,
 * because a sum that silently skips calls would understate cost.
 */
export class RunState {
  readonly controller = new AbortController();
  /** Read on every call (`signal.aborted`): kept here rather than asked of the controller each time. */
  readonly signal: AbortSignal = this.controller.signal;
  readonly startedAt: string;
  inputTokens = 0;
  outputTokens = 0;
  totalTokens = 0;
  cachedInputTokens = 0;
  /** Per total: each stands on its own, so one call without output tokens leaves input known. */
  inputUnknown = false;
  outputUnknown = false;
  totalUnknown = false;
  cachedUnknown = false;
  costUsd = 0;
  costUnknown = false;
  llmCalls = 0;
  toolCalls = 0;
  steps = 0;
  retries = 0;
  readonly retriesByReason: Partial<Record<RetryReason, number>> = {};
  retryBackoffSeconds = 0;
  readonly limitsExceeded: BudgetLimit[] = [];
  /** model → [provider, calls], to name the run's main model when the caller did not. */
  private readonly models = new Map<string, [string, number]>();
  private lastModel = '';
  private lastModelEntry: [string, number] | undefined;
  outcome: Outcome | null = null;
  errorType: string | null = null;
  lastFailure: FailureSource | null = null;
  /** Errors seen leaving an llmCall or toolCall, to classify the error that ends the run. */
  readonly failures = new WeakMap<object, FailureSource>();
  /** Closers of steps still open; the run's end closes them as failed (`run_ended`). */
  readonly openSteps = new Set<() => void>();
  /** Releases the run's timer and signal listener when it ends. */
  readonly onEnd: (() => void)[] = [];
  /** The handle user code holds; set right after construction. */
  handle!: Run;
  ended = false;
  /** The open run this one was opened inside, in this meter; its tree totals take this run's at the end. */
  parent: RunState | undefined;
  childRuns = 0;
  childCostUsd = 0;
  childCostUnknown = false;
  childTokens = 0;
  childTokensUnknown = false;
  /** Retry attempts per step (`''` for retries outside a step). */
  readonly attempts = new Map<string, number>();

  constructor(
    readonly meta: RunMeta,
    readonly startMs: number,
    readonly budget: Budget,
    private readonly provider: string | null,
    private readonly model: string | null,
  ) {
    this.startedAt = isoAt(startMs);
  }

  noteModel(provider: string, model: string): void {
    // Runs mostly repeat one model: its entry is kept at hand.
    if (model === this.lastModel && this.lastModelEntry !== undefined) {
      this.lastModelEntry[1]++;
      return;
    }
    let entry = this.models.get(model);
    if (entry) entry[1]++;
    else this.models.set(model, (entry = [provider, 1]));
    this.lastModel = model;
    this.lastModelEntry = entry;
  }

  addTokens(input: number | null, output: number | null, total: number | null, cached: number | null): void {
    if (input === null) this.inputUnknown = true;
    else this.inputTokens += input;
    if (output === null) this.outputUnknown = true;
    else this.outputTokens += output;
    if (total === null) this.totalUnknown = true;
    else this.totalTokens += total;
    if (cached === null) this.cachedUnknown = true;
    else this.cachedInputTokens += cached;
  }

  addCost(cost: number | null): void {
    if (cost === null) this.costUnknown = true;
    else this.costUsd += cost;
  }

  /**
   * Checks token and cost budgets; aborts the run with the first one crossed and lists
   * every one crossed. Known cost is a lower bound of the real cost when some call's cost
   * is unknown, so a known cost above the limit has crossed it either way.
   */
  checkBudget(): void {
    const { maxTokens, maxCostUsd } = this.budget;
    if ((maxTokens === undefined && maxCostUsd === undefined) || this.signal.aborted) return;
    if (maxTokens !== undefined && this.totalTokens > maxTokens) {
      this.exceed('max_tokens', this.totalTokens, maxTokens);
    }
    if (maxCostUsd !== undefined && this.costUsd > maxCostUsd) {
      this.exceed('max_cost_usd', this.costUsd, maxCostUsd);
    }
  }

  exceed(limit: BudgetLimit, used: number, allowed: number): void {
    if (!this.limitsExceeded.includes(limit)) this.limitsExceeded.push(limit);
    // A second limit crossed by the same call is listed; the first one stays the reason.
    if (!this.controller.signal.aborted) this.controller.abort(new BudgetExceededError(limit, used, allowed));
  }

  timeOut(timeoutMs: number): void {
    if (this.controller.signal.aborted) return;
    if (!this.limitsExceeded.includes('max_seconds')) this.limitsExceeded.push('max_seconds');
    this.controller.abort(new RunTimeoutError(timeoutMs));
  }

  cancel(reason: unknown): void {
    if (!this.controller.signal.aborted) this.controller.abort(new RunCancelledError(reason));
  }

  noteFailure(source: FailureSource, err: unknown): void {
    this.lastFailure = source;
    if (typeof err === 'object' && err !== null) this.failures.set(err, source);
  }

  nextAttempt(stepId: string | null): number {
    const key = stepId ?? '';
    const attempt = (this.attempts.get(key) ?? 0) + 1;
    this.attempts.set(key, attempt);
    return attempt;
  }

  private mainModel(): [string | null, string | null] {
    if (this.model !== null) return [this.provider, this.model];
    let best: [string | null, string | null] = [this.provider, null];
    let bestCalls = 0;
    for (const [model, [provider, calls]] of this.models) {
      if (calls > bestCalls) {
        best = [this.provider ?? provider, model];
        bestCalls = calls;
      }
    }
    return best;
  }

  toRunEvent(endMs: number, outcome: Outcome): RunEvent {
    const [provider, model] = this.mainModel();
    const { meta } = this;
    return {
      run_id: meta.run_id,
      task_id: meta.task_id,
      flow_id: meta.flow_id,
      agent: meta.agent,
      exec_mode: meta.exec_mode,
      branch: meta.branch,
      provider,
      model,
      outcome,
      success: outcome === 'success',
      partial: PARTIAL_OUTCOMES.has(outcome),
      started_at: this.startedAt,
      finished_at: isoAt(endMs),
      elapsed_seconds: Math.round((endMs - this.startMs) * 1000) / 1e6,
      input_tokens: this.inputUnknown ? null : this.inputTokens,
      output_tokens: this.outputUnknown ? null : this.outputTokens,
      total_tokens: this.totalUnknown ? null : this.totalTokens,
      cached_input_tokens: this.cachedUnknown ? null : this.cachedInputTokens,
      cost_usd: this.costUnknown ? null : roundUsd(this.costUsd),
      limits_exceeded: [...this.limitsExceeded],
      retries: this.retries,
      retries_by_reason: { ...this.retriesByReason },
      retry_backoff_seconds: this.retryBackoffSeconds,
      // enzu's definition: a budget limit was hit in a run that also retried.
      budget_exceeded_during_retry: this.limitsExceeded.length > 0 && this.retries > 0,
      llm_calls: this.llmCalls,
      tool_calls: this.toolCalls,
      steps: this.steps,
      error_type: outcome === 'success' ? null : this.errorType,
      app_id: meta.app_id ?? null,
      session_id: meta.session_id ?? null,
      user_id: meta.user_id ?? null,
      parent_run_id: meta.parent_run_id ?? null,
      trace_id: meta.trace_id ?? null,
      child_runs: this.childRuns,
      tree_cost_usd: this.costUnknown || this.childCostUnknown ? null : roundUsd(this.costUsd + this.childCostUsd),
      tree_total_tokens: this.totalUnknown || this.childTokensUnknown ? null : this.totalTokens + this.childTokens,
      attributes: meta.attributes,
    };
  }

  /** Adds a finished child run's tree (itself and its own children) to this run's tree totals. */
  addChild(child: RunEvent): void {
    this.childRuns += 1 + (child.child_runs ?? 0);
    const cost = child.tree_cost_usd ?? null;
    if (cost === null) this.childCostUnknown = true;
    else this.childCostUsd += cost;
    const tokens = child.tree_total_tokens ?? null;
    if (tokens === null) this.childTokensUnknown = true;
    else this.childTokens += tokens;
  }
}
