import type { Attributes } from './events.js';
import type { Outcome, RetryReason } from './outcome.js';

/**
 * The canonical summary of one finished run: every field of enzu's `RunEvent`
 * (so its log parsers and dashboards keep working), plus flowmeter's run identity.
 * A field that was not measured is null, never a made-up zero.
 */
export interface RunEvent {
  readonly run_id: string;
  readonly task_id: string | null;
  readonly flow_id: string;
  readonly agent: string;
  readonly exec_mode: 'dry_run' | 'live';
  readonly branch: string;
  readonly provider: string | null;
  readonly model: string | null;
  readonly outcome: Outcome;
  readonly success: boolean;
  /** True when the result is incomplete because a budget, timeout or cancel cut the run short. */
  readonly partial: boolean;
  readonly started_at: string;
  readonly finished_at: string;
  readonly elapsed_seconds: number;
  readonly input_tokens: number | null;
  readonly output_tokens: number | null;
  readonly total_tokens: number | null;
  readonly cached_input_tokens: number | null;
  readonly cost_usd: number | null;
  readonly limits_exceeded: readonly string[];
  readonly retries: number;
  readonly retries_by_reason: Readonly<Partial<Record<RetryReason, number>>>;
  readonly retry_backoff_seconds: number;
  readonly budget_exceeded_during_retry: boolean;
  readonly llm_calls: number;
  readonly tool_calls: number;
  readonly steps: number;
  /** Error class name when the run failed (ARX's `reason`), null otherwise. */
  readonly error_type: string | null;
  readonly app_id: string | null;
  readonly session_id: string | null;
  readonly user_id: string | null;
  /**
   * Run trees. Absent in events written before run trees existed. `tree_*` sum this run and
   * every child run that ended before it (their own trees included); null when any of them
   * could not say its value.
   */
  readonly parent_run_id?: string | null;
  readonly trace_id?: string | null;
  readonly child_runs?: number;
  readonly tree_cost_usd?: number | null;
  readonly tree_total_tokens?: number | null;
  readonly attributes: Attributes;
}

export const RUN_EVENT_LOG_TYPE = 'flowmeter.run_event.v1';

/** The stable JSON shape logged once per run: `{"type":"flowmeter.run_event.v1", ...}`. */
export function runEventToLogRecord(event: RunEvent): Record<string, unknown> {
  return { type: RUN_EVENT_LOG_TYPE, ...event };
}
