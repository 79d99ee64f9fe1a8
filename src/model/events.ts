import type { ExecMode, Outcome, RetryReason } from './outcome.js';
import type { RunEvent } from './run-event.js';

/** Free-form, high-cardinality data. It goes to events, logs and the store, never to metric labels. */
export type Attributes = Readonly<Record<string, string | number | boolean | null>>;

/** What identifies a run. Everything but `run_id` is optional when a run is opened. */
export interface RunMeta {
  readonly run_id: string;
  readonly flow_id: string;
  readonly task_id: string | null;
  /** The persona that runs the flow (ARX's `persona`). */
  readonly agent: string;
  readonly exec_mode: ExecMode;
  readonly branch: string;
  readonly app_id?: string;
  readonly session_id?: string;
  readonly user_id?: string;
  /** The run this one was opened inside (a sub-agent's run inside its concierge's), if any. */
  readonly parent_run_id?: string;
  /** Shared by every run of one tree (W3C trace id: 32 lowercase hex digits). */
  readonly trace_id?: string;
  /** The OpenTelemetry span the run was opened in, when its trace was that span's (16 hex digits). */
  readonly otel_parent_span_id?: string;
  readonly attributes: Attributes;
}

/**
 * Times are carried twice: `*_ts` as ISO 8601 wall-clock for people and files, and
 * `duration_ms` from the monotonic clock (`performance.now()`), so a clock step
 * during a call never yields a negative or wrong duration.
 */
export interface RunStarted {
  readonly kind: 'run_started';
  readonly run: RunMeta;
  readonly ts: string;
}

export interface RunFinished {
  readonly kind: 'run_finished';
  readonly run: RunMeta;
  readonly ts: string;
  readonly event: RunEvent;
  /** The tier-1 line, e.g. `Execution time: 98ms`. */
  readonly summary: string;
}

export interface StepStarted {
  readonly kind: 'step_started';
  readonly run_id: string;
  readonly flow_id: string;
  readonly step_id: string;
  readonly agent: string;
  readonly model: string | null;
  readonly ts: string;
}

export interface StepFinished {
  readonly kind: 'step_finished';
  readonly run_id: string;
  readonly flow_id: string;
  readonly step_id: string;
  readonly agent: string;
  readonly model: string | null;
  readonly exec_mode: ExecMode;
  readonly start_ts: string;
  readonly end_ts: string;
  readonly duration_ms: number;
  readonly success: boolean;
  /** Error class name when the step failed. */
  readonly error: string | null;
}

export interface LlmCall {
  readonly kind: 'llm_call';
  readonly run_id: string;
  readonly flow_id: string;
  readonly agent: string;
  readonly step_id: string | null;
  readonly provider: string;
  readonly model: string;
  /** What the call was for, e.g. `initial`, `summary`, `synthesis`. */
  readonly phase: string;
  readonly start_ts: string;
  readonly end_ts: string;
  readonly duration_ms: number;
  /** Time to first token; present only for streamed calls that reported one. */
  readonly ttft_ms: number | null;
  readonly input_tokens: number | null;
  readonly output_tokens: number | null;
  readonly total_tokens: number | null;
  readonly cached_input_tokens: number | null;
  /** null when neither the provider nor the price table knows the cost. */
  readonly cost_usd: number | null;
  readonly cost_source: 'provider' | 'price_table' | null;
  readonly streaming: boolean;
  readonly cache_hit: boolean;
  /** null on success; an error class such as `rate_limit` or `TypeError` on failure. */
  readonly error_type: string | null;
}

export interface ToolCall {
  readonly kind: 'tool_call';
  readonly run_id: string;
  readonly flow_id: string;
  readonly agent: string;
  readonly step_id: string | null;
  readonly tool: string;
  readonly start_ts: string;
  readonly end_ts: string;
  readonly duration_ms: number;
  readonly success: boolean;
  readonly error: string | null;
}

export interface Retry {
  readonly kind: 'retry';
  readonly run_id: string;
  readonly flow_id: string;
  readonly agent: string;
  readonly step_id: string | null;
  readonly reason: RetryReason;
  /** 1 for the first retry of the run (or of the step, inside a step). */
  readonly attempt: number;
  readonly backoff_seconds: number;
  readonly ts: string;
}

/**
 * Tokens spent outside an `llmCall` (ARX's `tokens_in` / `tokens_out`), so that every
 * view — metrics.jsonl, logs, metrics — sees the same token totals as the RunEvent.
 */
export interface TokensRecorded {
  readonly kind: 'tokens';
  readonly run_id: string;
  readonly flow_id: string;
  readonly agent: string;
  readonly step_id: string | null;
  readonly model: string;
  readonly direction: 'in' | 'out';
  readonly count: number;
  readonly cost_usd: number | null;
  readonly ts: string;
}

/** Every event the ways in produce. All outputs are views of these. */
export type FlowEvent = RunStarted | RunFinished | StepStarted | StepFinished | LlmCall | ToolCall | Retry | TokensRecorded;

export type FlowEventKind = FlowEvent['kind'];

export type { Outcome };
