import type { Outcome, RetryReason } from '../model/index.js';
import type { CallRow, RetryRow, RunRow, StepRow } from './store.js';
import type { Column } from './schema.js';
import { CALL_COLUMNS, RETRY_COLUMNS, RUN_COLUMNS, RUN_KEEP_IF_NULL, STEP_COLUMNS } from './schema.js';

/** A finished run's row over its started row: the end wins, ids known only at the start are kept. */
export function mergeRunRows(started: RunRow, finished: RunRow): RunRow {
  return {
    ...finished,
    parent_run_id: finished.parent_run_id ?? started.parent_run_id,
    trace_id: finished.trace_id ?? started.trace_id,
    app_id: finished.app_id ?? started.app_id,
    session_id: finished.session_id ?? started.session_id,
    user_id: finished.user_id ?? started.user_id,
    task_id: finished.task_id ?? started.task_id,
  };
}

export type SqlValue = string | number | null | Buffer;

function toSql(value: unknown, column: Column): SqlValue {
  if (value === null || value === undefined) return null;
  if (column.type.startsWith('bool')) return value === true ? 1 : 0;
  if (column.name === 'limits_exceeded' || column.name === 'retries_by_reason' || column.name === 'attributes') return JSON.stringify(value);
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string' || Buffer.isBuffer(value)) return value;
  return JSON.stringify(value);
}

function valuesOf(row: object, columns: readonly Column[]): SqlValue[] {
  const record = row as Record<string, unknown>;
  return columns.map((column) => toSql(record[column.name], column));
}

export const runValues = (row: RunRow): SqlValue[] => valuesOf(row, RUN_COLUMNS);
export const stepValues = (row: StepRow): SqlValue[] => valuesOf(row, STEP_COLUMNS);
export const callValues = (row: CallRow): SqlValue[] => valuesOf(row, CALL_COLUMNS);
export const retryValues = (row: RetryRow): SqlValue[] => valuesOf(row, RETRY_COLUMNS);

export { RUN_KEEP_IF_NULL };

type DbRow = Record<string, unknown>;

const str = (v: unknown): string => (typeof v === 'string' ? v : String(v));
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : str(v));
const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : num(v));
const boolOrNull = (v: unknown): boolean | null => (v === null || v === undefined ? null : num(v) !== 0);

function json<T>(v: unknown, fallback: T): T {
  if (typeof v !== 'string') return fallback;
  try {
    return JSON.parse(v) as T;
  } catch {
    return fallback;
  }
}

export function runFromDb(r: DbRow): RunRow {
  return {
    run_id: str(r.run_id),
    parent_run_id: strOrNull(r.parent_run_id),
    trace_id: strOrNull(r.trace_id),
    flow_id: str(r.flow_id),
    task_id: strOrNull(r.task_id),
    agent: str(r.agent),
    app_id: strOrNull(r.app_id),
    session_id: strOrNull(r.session_id),
    user_id: strOrNull(r.user_id),
    exec_mode: str(r.exec_mode),
    branch: str(r.branch),
    status: r.status === 'finished' ? 'finished' : 'running',
    provider: strOrNull(r.provider),
    model: strOrNull(r.model),
    outcome: strOrNull(r.outcome) as Outcome | null,
    success: boolOrNull(r.success),
    partial: boolOrNull(r.partial),
    start_ms: num(r.start_ms),
    end_ms: numOrNull(r.end_ms),
    elapsed_seconds: numOrNull(r.elapsed_seconds),
    input_tokens: numOrNull(r.input_tokens),
    output_tokens: numOrNull(r.output_tokens),
    total_tokens: numOrNull(r.total_tokens),
    cached_input_tokens: numOrNull(r.cached_input_tokens),
    cost_usd: numOrNull(r.cost_usd),
    cost_source: strOrNull(r.cost_source),
    limits_exceeded: json<string[]>(r.limits_exceeded, []),
    retries: numOrNull(r.retries),
    retries_by_reason: json<Partial<Record<RetryReason, number>>>(r.retries_by_reason, {}),
    retry_backoff_seconds: numOrNull(r.retry_backoff_seconds),
    budget_exceeded_during_retry: boolOrNull(r.budget_exceeded_during_retry),
    llm_calls: numOrNull(r.llm_calls),
    tool_calls: numOrNull(r.tool_calls),
    steps: numOrNull(r.steps),
    error_type: strOrNull(r.error_type),
    attributes: json<Record<string, unknown>>(r.attributes, {}),
    summary: strOrNull(r.summary),
  };
}

export function stepFromDb(r: DbRow): StepRow {
  return {
    run_id: str(r.run_id),
    step_id: str(r.step_id),
    flow_id: str(r.flow_id),
    agent: str(r.agent),
    model: strOrNull(r.model),
    start_ms: num(r.start_ms),
    end_ms: num(r.end_ms),
    duration_ms: num(r.duration_ms),
    success: num(r.success) !== 0,
    error: strOrNull(r.error),
  };
}

export function callFromDb(r: DbRow): CallRow {
  return {
    run_id: str(r.run_id),
    seq: num(r.seq),
    kind: r.kind === 'tool' ? 'tool' : 'llm',
    step_id: strOrNull(r.step_id),
    flow_id: str(r.flow_id),
    agent: str(r.agent),
    app_id: strOrNull(r.app_id),
    provider: strOrNull(r.provider),
    model: strOrNull(r.model),
    phase: strOrNull(r.phase),
    tool: strOrNull(r.tool),
    start_ms: num(r.start_ms),
    end_ms: num(r.end_ms),
    duration_ms: num(r.duration_ms),
    ttft_ms: numOrNull(r.ttft_ms),
    input_tokens: numOrNull(r.input_tokens),
    output_tokens: numOrNull(r.output_tokens),
    total_tokens: numOrNull(r.total_tokens),
    cached_input_tokens: numOrNull(r.cached_input_tokens),
    cost_usd: numOrNull(r.cost_usd),
    cost_source: strOrNull(r.cost_source),
    streaming: boolOrNull(r.streaming),
    cache_hit: boolOrNull(r.cache_hit),
    success: num(r.success) !== 0,
    error_type: strOrNull(r.error_type),
    error_message: strOrNull(r.error_message),
    sample_rate: num(r.sample_rate),
  };
}

export function retryFromDb(r: DbRow): RetryRow {
  return {
    run_id: str(r.run_id),
    seq: num(r.seq),
    step_id: strOrNull(r.step_id),
    reason: str(r.reason) as RetryReason,
    attempt: num(r.attempt),
    backoff_seconds: num(r.backoff_seconds),
    at_ms: num(r.at_ms),
  };
}
