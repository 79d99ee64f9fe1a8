import type { FlowEvent, LlmCall, RunFinished, RunMeta, RunStarted, ToolCall } from '../model/index.js';
import { RollupDelta } from './rollup.js';
import type { CallRow, RetryRow, RunRow, StepRow, StoreBatch } from './store.js';

/** What the builder remembers of a run between batches: ids the calls do not carry, and positions. */
interface RunContext {
  appId: string | null;
  nextCall: number;
  nextRetry: number;
  costSources: number;
}

const PROVIDER_COST = 1;
const TABLE_COST = 2;

/** Runs remembered at most; the oldest are forgotten first (a run that never finished). */
const MAX_OPEN_RUNS = 100_000;

export interface BuildOptions {
  /**
   * Keep one raw call row in `1 / rate` (1 keeps all). The rest are folded into
   * `batch.sampled`, so rollup counts and sums stay exact. Which calls are kept depends
   * only on their position in the run, so a replay keeps the same ones.
   */
  readonly callSampleRate?: number;
}

/**
 * Turns events into store rows. It numbers each run's calls and retries in the order they
 * happened (the key that makes a replayed batch idempotent), carries the run's app id to
 * its calls, and notes where the run's cost came from. One builder per event stream: a
 * meter, an import of one runs folder, one ingest client.
 */
export class BatchBuilder {
  readonly #runs = new Map<string, RunContext>();
  /** Calls folded into rollups instead of kept as rows, since this builder was made. */
  sampledCalls = 0;

  build(events: readonly FlowEvent[], options: BuildOptions = {}): StoreBatch {
    const rate = options.callSampleRate ?? 1;
    const every = rate >= 1 || !(rate > 0) ? 1 : Math.max(1, Math.round(1 / rate));
    const runStarts: RunRow[] = [];
    const runEnds: RunRow[] = [];
    const steps: StepRow[] = [];
    const calls: CallRow[] = [];
    const retries: RetryRow[] = [];
    let sampled: RollupDelta | null = null;
    for (const event of events) {
      switch (event.kind) {
        case 'run_started':
          runStarts.push(startedRow(event, this.#open(event.run.run_id, event.run.app_id ?? null)));
          break;
        case 'run_finished': {
          const context = this.#runs.get(event.run.run_id);
          runEnds.push(finishedRow(event, context));
          this.#runs.delete(event.run.run_id);
          break;
        }
        case 'step_started':
          break;
        case 'step_finished':
          steps.push({
            run_id: event.run_id,
            step_id: event.step_id,
            flow_id: event.flow_id,
            agent: event.agent,
            model: event.model,
            start_ms: Date.parse(event.start_ts),
            end_ms: Date.parse(event.end_ts),
            duration_ms: event.duration_ms,
            success: event.success,
            error: event.error,
          });
          break;
        case 'llm_call':
        case 'tool_call': {
          const context = this.#open(event.run_id, null);
          const seq = context.nextCall++;
          if (event.kind === 'llm_call') {
            if (event.cost_source === 'provider') context.costSources |= PROVIDER_COST;
            else if (event.cost_source === 'price_table') context.costSources |= TABLE_COST;
          }
          const row = event.kind === 'llm_call' ? llmRow(event, seq, context.appId, every) : toolRow(event, seq, context.appId, every);
          if (every === 1 || seq % every === 0) {
            calls.push(row);
          } else {
            sampled ??= new RollupDelta();
            sampled.addCall(row);
            this.sampledCalls += 1;
          }
          break;
        }
        case 'retry': {
          const context = this.#open(event.run_id, null);
          retries.push({
            run_id: event.run_id,
            seq: context.nextRetry++,
            step_id: event.step_id,
            reason: event.reason,
            attempt: event.attempt,
            backoff_seconds: event.backoff_seconds,
            at_ms: Date.parse(event.ts),
          });
          break;
        }
        case 'tokens':
          // Loose token counts are already in the run's totals (RunEvent); they are not calls.
          break;
        default: {
          const unreachable: never = event;
          return unreachable;
        }
      }
    }
    return { runStarts, runEnds, steps, calls, retries, sampled };
  }

  #open(runId: string, appId: string | null): RunContext {
    let context = this.#runs.get(runId);
    if (context === undefined) {
      if (this.#runs.size >= MAX_OPEN_RUNS) {
        const oldest = this.#runs.keys().next();
        if (oldest.done !== true) this.#runs.delete(oldest.value);
      }
      context = { appId, nextCall: 0, nextRetry: 0, costSources: 0 };
      this.#runs.set(runId, context);
    } else if (appId !== null) {
      context.appId = appId;
    }
    return context;
  }
}

/** Ids the model may carry on a run (run trees), read without assuming they are there. */
function treeIds(meta: RunMeta): { parent: string | null; trace: string | null } {
  const extra = meta as RunMeta & { readonly parent_run_id?: string | null; readonly trace_id?: string | null };
  return { parent: extra.parent_run_id ?? null, trace: extra.trace_id ?? null };
}

function startedRow(event: RunStarted, context: RunContext): RunRow {
  const meta = event.run;
  const ids = treeIds(meta);
  return {
    run_id: meta.run_id,
    parent_run_id: ids.parent,
    trace_id: ids.trace,
    flow_id: meta.flow_id,
    task_id: meta.task_id,
    agent: meta.agent,
    app_id: meta.app_id ?? context.appId,
    session_id: meta.session_id ?? null,
    user_id: meta.user_id ?? null,
    exec_mode: meta.exec_mode,
    branch: meta.branch,
    status: 'running',
    provider: null,
    model: null,
    outcome: null,
    success: null,
    partial: null,
    start_ms: Date.parse(event.ts),
    end_ms: null,
    elapsed_seconds: null,
    input_tokens: null,
    output_tokens: null,
    total_tokens: null,
    cached_input_tokens: null,
    cost_usd: null,
    cost_source: null,
    limits_exceeded: [],
    retries: null,
    retries_by_reason: {},
    retry_backoff_seconds: null,
    budget_exceeded_during_retry: null,
    llm_calls: null,
    tool_calls: null,
    steps: null,
    error_type: null,
    attributes: meta.attributes,
    summary: null,
  };
}

function costSource(bits: number | undefined): string | null {
  if (bits === PROVIDER_COST) return 'provider';
  if (bits === TABLE_COST) return 'price_table';
  if (bits === (PROVIDER_COST | TABLE_COST)) return 'mixed';
  return null;
}

function finishedRow(event: RunFinished, context: RunContext | undefined): RunRow {
  const meta = event.run;
  const run = event.event;
  const ids = treeIds(meta);
  return {
    run_id: run.run_id,
    parent_run_id: ids.parent,
    trace_id: ids.trace,
    flow_id: run.flow_id,
    task_id: run.task_id,
    agent: run.agent,
    app_id: run.app_id ?? context?.appId ?? null,
    session_id: run.session_id,
    user_id: run.user_id,
    exec_mode: run.exec_mode,
    branch: run.branch,
    status: 'finished',
    provider: run.provider,
    model: run.model,
    outcome: run.outcome,
    success: run.success,
    partial: run.partial,
    start_ms: Date.parse(run.started_at),
    end_ms: Date.parse(run.finished_at),
    elapsed_seconds: run.elapsed_seconds,
    input_tokens: run.input_tokens,
    output_tokens: run.output_tokens,
    total_tokens: run.total_tokens,
    cached_input_tokens: run.cached_input_tokens,
    cost_usd: run.cost_usd,
    cost_source: run.cost_usd === null ? null : costSource(context?.costSources),
    limits_exceeded: run.limits_exceeded,
    retries: run.retries,
    retries_by_reason: run.retries_by_reason,
    retry_backoff_seconds: run.retry_backoff_seconds,
    budget_exceeded_during_retry: run.budget_exceeded_during_retry,
    llm_calls: run.llm_calls,
    tool_calls: run.tool_calls,
    steps: run.steps,
    error_type: run.error_type,
    attributes: run.attributes,
    summary: event.summary,
  };
}

function llmRow(event: LlmCall, seq: number, appId: string | null, every: number): CallRow {
  return {
    run_id: event.run_id,
    seq,
    kind: 'llm',
    step_id: event.step_id,
    flow_id: event.flow_id,
    agent: event.agent,
    app_id: appId,
    provider: event.provider,
    model: event.model,
    phase: event.phase,
    tool: null,
    start_ms: Date.parse(event.start_ts),
    end_ms: Date.parse(event.end_ts),
    duration_ms: event.duration_ms,
    ttft_ms: event.ttft_ms,
    input_tokens: event.input_tokens,
    output_tokens: event.output_tokens,
    total_tokens: event.total_tokens,
    cached_input_tokens: event.cached_input_tokens,
    cost_usd: event.cost_usd,
    cost_source: event.cost_source,
    streaming: event.streaming,
    cache_hit: event.cache_hit,
    success: event.error_type === null,
    error_type: event.error_type,
    error_message: messageOf(event),
    sample_rate: 1 / every,
  };
}

function toolRow(event: ToolCall, seq: number, appId: string | null, every: number): CallRow {
  return {
    run_id: event.run_id,
    seq,
    kind: 'tool',
    step_id: event.step_id,
    flow_id: event.flow_id,
    agent: event.agent,
    app_id: appId,
    provider: null,
    model: null,
    phase: null,
    tool: event.tool,
    start_ms: Date.parse(event.start_ts),
    end_ms: Date.parse(event.end_ts),
    duration_ms: event.duration_ms,
    ttft_ms: null,
    input_tokens: null,
    output_tokens: null,
    total_tokens: null,
    cached_input_tokens: null,
    cost_usd: null,
    cost_source: null,
    streaming: null,
    cache_hit: null,
    success: event.success,
    error_type: event.success ? null : (event.error ?? 'Error'),
    error_message: messageOf(event),
    sample_rate: 1 / every,
  };
}

/** An error message, when the event carries one (the event model may grow `error_message`). */
function messageOf(event: LlmCall | ToolCall): string | null {
  const message = (event as { readonly error_message?: unknown }).error_message;
  return typeof message === 'string' ? message.slice(0, 2_000) : null;
}
