import type { Outcome, RetryReason } from '../model/index.js';
import type { CallRow, RetryRow, RunRow, StepRow } from './store.js';
import type { Column } from './schema.js';
import { RETRY_COLUMNS, RUN_COLUMNS, STEP_COLUMNS } from './schema.js';

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

/** A batch's run rows, with each run that both starts and ends in it written once. */
export interface PairedRuns {
  /** Start rows of runs that do not end in the batch. */
  readonly starts: readonly RunRow[];
  /** End rows; `whole` when the row is the run's start and end merged (mergeRunRows). */
  readonly ends: readonly { readonly row: RunRow; readonly whole: boolean }[];
  /** Start rows repeated in the batch beyond the one merged: duplicates by definition. */
  readonly repeatedStarts: number;
}

/**
 * Most runs start and end within one batch; writing their finished row alone (with the ids
 * only the start knew) spares a second write of the same row and its indexes. A store counts
 * a whole row as one run started and one finished, or as two duplicates, so its counts are
 * those of writing the two rows apart.
 */
export function pairRuns(runStarts: readonly RunRow[], runEnds: readonly RunRow[]): PairedRuns {
  if (runStarts.length === 0 || runEnds.length === 0) return { starts: runStarts, ends: runEnds.map((row) => ({ row, whole: false })), repeatedStarts: 0 };
  const started = new Map<string, RunRow>();
  for (const row of runStarts) if (!started.has(row.run_id)) started.set(row.run_id, row);
  const merged = new Set<string>();
  const ends = runEnds.map((row) => {
    const start = merged.has(row.run_id) ? undefined : started.get(row.run_id);
    if (start === undefined) return { row, whole: false };
    merged.add(row.run_id);
    return { row: mergeRunRows(start, row), whole: true };
  });
  const starts = merged.size === 0 ? runStarts : runStarts.filter((row) => !merged.has(row.run_id));
  return { starts, ends, repeatedStarts: runStarts.length - starts.length - merged.size };
}

export type SqlValue = string | number | null | Buffer;

/** How a column's value is bound: booleans as 0/1, JSON columns as text, the rest as they are. */
const PLAIN = 0;
const BOOL = 1;
const JSON_TEXT = 2;
export type Bind = typeof PLAIN | typeof BOOL | typeof JSON_TEXT;

const JSON_COLUMNS = new Set(['limits_exceeded', 'retries_by_reason', 'attributes']);

/** Each column's name and how it binds, worked out once per table rather than per value. */
export function columnBinds(columns: readonly Column[]): { readonly names: readonly string[]; readonly binds: readonly Bind[] } {
  return { names: columns.map((c) => c.name), binds: columns.map((c) => (c.type.startsWith('bool') ? BOOL : JSON_COLUMNS.has(c.name) ? JSON_TEXT : PLAIN)) };
}

/** One value as bound: `null` for a missing value or a number that is not finite. */
export function sqlValue(value: unknown, bind: Bind): SqlValue {
  if (value === null || value === undefined) return null;
  if (bind === BOOL) return value === true ? 1 : 0;
  if (bind === JSON_TEXT) return JSON.stringify(value);
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string' || Buffer.isBuffer(value)) return value;
  return JSON.stringify(value);
}

/** A row's values in column order. This runs for every stored call, so it does no string tests on column names. */
function valuesOf(columns: readonly Column[]): (row: object) => SqlValue[] {
  const { names, binds } = columnBinds(columns);
  const n = columns.length;
  return (row) => {
    const record = row as Record<string, unknown>;
    const out = new Array<SqlValue>(n);
    for (let i = 0; i < n; i++) out[i] = sqlValue(record[names[i] as string], binds[i] as Bind);
    return out;
  };
}

export const runValues: (row: RunRow) => SqlValue[] = valuesOf(RUN_COLUMNS);
export const stepValues: (row: StepRow) => SqlValue[] = valuesOf(STEP_COLUMNS);

const finite = (v: number | null | undefined): number | null => (v !== null && v !== undefined && Number.isFinite(v) ? v : null);
const bit = (v: boolean | null | undefined): number | null => (v === true ? 1 : v === false ? 0 : null);

/**
 * The calls table's values, written out: it runs for every stored call, and reading the
 * fields by name in a loop cost about a microsecond a row. Tests hold it to CALL_COLUMNS.
 */
export function callValues(r: CallRow): SqlValue[] {
  return [
    r.run_id,
    finite(r.seq),
    r.kind,
    r.step_id ?? null,
    r.flow_id,
    r.agent,
    r.app_id ?? null,
    r.provider ?? null,
    r.model ?? null,
    r.phase ?? null,
    r.tool ?? null,
    finite(r.start_ms),
    finite(r.end_ms),
    finite(r.duration_ms),
    finite(r.ttft_ms),
    finite(r.input_tokens),
    finite(r.output_tokens),
    finite(r.total_tokens),
    finite(r.cached_input_tokens),
    finite(r.cost_usd),
    r.cost_source ?? null,
    bit(r.streaming),
    bit(r.cache_hit),
    bit(r.success),
    r.error_type ?? null,
    r.error_message ?? null,
    finite(r.sample_rate),
  ];
}
export const retryValues: (row: RetryRow) => SqlValue[] = valuesOf(RETRY_COLUMNS);


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
