import type { FlowEvent, Outcome, RetryReason } from '../model/index.js';
import type { QuantileSketch, RunStats } from '../stats/index.js';
import type { RollupDelta } from './rollup.js';

/**
 * The store: every run, step, call and retry, plus per-minute/hour/day rollups with
 * serialized DDSketches. One interface, three implementations (SQLite, PostgreSQL, memory),
 * one shared test suite. Times are epoch milliseconds at this interface and in the tables;
 * ISO strings are for people and files.
 */
export interface Store {
  /** `sqlite`, `postgres` or `memory`. */
  readonly kind: StoreKind;
  /** Where it lives, for messages: a file path or a URL without its password. */
  readonly location: string;
  /**
   * Writes one batch in one transaction: raw rows and the rollups they add to, so the two
   * never disagree. Idempotent: a run is keyed by its id, a call by (run id, position in
   * its run); rows already present are skipped and add nothing to the rollups.
   */
  write(batch: StoreBatch): Promise<WriteResult>;
  /** Runs newest first (by start), filtered, one page at a time. */
  runs(query?: RunQuery): Promise<RunPage>;
  /** One run with its steps, calls, retries and child runs; null when unknown. */
  run(runId: string): Promise<RunDetail | null>;
  /** Calls in a window, slowest first or newest first. */
  calls(query: CallQuery): Promise<StoredCall[]>;
  /** Rollup rows overlapping [since, until), at the coarsest resolution that tiles the window exactly. */
  rollups(query: RollupQuery): Promise<RollupSet>;
  /** Deletes raw rows older than `rawBefore` and rollups older than `rollupsBefore` (epoch ms). */
  retain(policy: RetentionCutoffs): Promise<RetentionResult>;
  /** Schema version and row counts, for `doctor`-style output and tests. */
  info(): Promise<StoreInfo>;
  /** Idempotent. */
  close(): Promise<void>;
}

export type StoreKind = 'sqlite' | 'postgres' | 'memory';

/** Rows of one write, built from events by `buildBatch` (store/batch.ts). */
export interface StoreBatch {
  readonly runStarts: readonly RunRow[];
  readonly runEnds: readonly RunRow[];
  readonly steps: readonly StepRow[];
  readonly calls: readonly CallRow[];
  readonly retries: readonly RetryRow[];
  /**
   * Calls whose raw rows were sampled away under overload, already folded into rollup
   * cells: they still reach the rollups, so counts and sums stay exact. Null when none.
   */
  readonly sampled: RollupDelta | null;
}

export interface WriteResult {
  readonly runsStarted: number;
  readonly runsFinished: number;
  readonly calls: number;
  readonly steps: number;
  readonly retries: number;
  /** Rows that were already there (a replayed batch). */
  readonly duplicates: number;
}

export type RunStatus = 'running' | 'finished';

/** One run: every RunEvent field, its ids, and its summary line. Unmeasured fields are null. */
export interface RunRow {
  readonly run_id: string;
  readonly parent_run_id: string | null;
  readonly trace_id: string | null;
  readonly flow_id: string;
  readonly task_id: string | null;
  readonly agent: string;
  readonly app_id: string | null;
  readonly session_id: string | null;
  readonly user_id: string | null;
  readonly exec_mode: string;
  readonly branch: string;
  readonly status: RunStatus;
  readonly provider: string | null;
  readonly model: string | null;
  readonly outcome: Outcome | null;
  readonly success: boolean | null;
  readonly partial: boolean | null;
  readonly start_ms: number;
  readonly end_ms: number | null;
  readonly elapsed_seconds: number | null;
  readonly input_tokens: number | null;
  readonly output_tokens: number | null;
  readonly total_tokens: number | null;
  readonly cached_input_tokens: number | null;
  readonly cost_usd: number | null;
  /** `provider`, `price_table`, `mixed`, or null when no call had a cost. */
  readonly cost_source: string | null;
  readonly limits_exceeded: readonly string[];
  readonly retries: number | null;
  readonly retries_by_reason: Readonly<Partial<Record<RetryReason, number>>>;
  readonly retry_backoff_seconds: number | null;
  readonly budget_exceeded_during_retry: boolean | null;
  readonly llm_calls: number | null;
  readonly tool_calls: number | null;
  readonly steps: number | null;
  readonly error_type: string | null;
  readonly attributes: Readonly<Record<string, unknown>>;
  readonly summary: string | null;
}

export type StoredRun = RunRow;

export interface StepRow {
  readonly run_id: string;
  readonly step_id: string;
  readonly flow_id: string;
  readonly agent: string;
  readonly model: string | null;
  readonly start_ms: number;
  readonly end_ms: number;
  readonly duration_ms: number;
  readonly success: boolean;
  readonly error: string | null;
}

export type CallKind = 'llm' | 'tool';

export interface CallRow {
  readonly run_id: string;
  /** Position of the call in its run (0, 1, …), LLM and tool calls counted together. */
  readonly seq: number;
  readonly kind: CallKind;
  readonly step_id: string | null;
  readonly flow_id: string;
  readonly agent: string;
  readonly app_id: string | null;
  /** LLM calls only. */
  readonly provider: string | null;
  readonly model: string | null;
  readonly phase: string | null;
  /** Tool calls only. */
  readonly tool: string | null;
  readonly start_ms: number;
  readonly end_ms: number;
  readonly duration_ms: number;
  readonly ttft_ms: number | null;
  readonly input_tokens: number | null;
  readonly output_tokens: number | null;
  readonly total_tokens: number | null;
  readonly cached_input_tokens: number | null;
  readonly cost_usd: number | null;
  readonly cost_source: string | null;
  readonly streaming: boolean | null;
  readonly cache_hit: boolean | null;
  readonly success: boolean;
  readonly error_type: string | null;
  readonly error_message: string | null;
  /** 1 when every call was kept; 0.25 when this row stands for four under overload sampling. */
  readonly sample_rate: number;
}

export type StoredCall = CallRow;

export interface RetryRow {
  readonly run_id: string;
  /** Position among the run's retries. */
  readonly seq: number;
  readonly step_id: string | null;
  readonly reason: RetryReason;
  readonly attempt: number;
  readonly backoff_seconds: number;
  readonly at_ms: number;
}

export interface RunQuery {
  /** Runs started at or after (epoch ms). */
  readonly since?: number;
  /** Runs started before (epoch ms). */
  readonly until?: number;
  readonly flow?: string;
  readonly agent?: string;
  readonly model?: string;
  readonly outcome?: Outcome;
  readonly app?: string;
  readonly session?: string;
  readonly user?: string;
  readonly parent?: string;
  readonly status?: RunStatus;
  /** Default 50, at most 1,000. */
  readonly limit?: number;
  /** From the previous page's `next_cursor`. */
  readonly cursor?: string;
}

export interface RunPage {
  readonly runs: readonly StoredRun[];
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  readonly next_cursor: string | null;
}

export interface RunDetail {
  readonly run: StoredRun;
  readonly steps: readonly StepRow[];
  readonly calls: readonly StoredCall[];
  readonly retries: readonly RetryRow[];
  readonly children: readonly StoredRun[];
}

export interface CallQuery {
  /** Calls that ended at or after (epoch ms). */
  readonly since?: number;
  readonly until?: number;
  readonly kind?: CallKind;
  readonly flow?: string;
  readonly agent?: string;
  readonly provider?: string;
  readonly model?: string;
  readonly app?: string;
  /** `slowest` (duration, descending) or `newest` (end time, descending). Default `slowest`. */
  readonly order?: 'slowest' | 'newest';
  /** Default 5, at most 1,000. */
  readonly limit?: number;
}

/** Rollup dimensions. '' stands for "none" (a run without an app id, a tool call's model). */
export interface RollupKey {
  readonly app_id: string;
  readonly flow_id: string;
  readonly agent: string;
  readonly provider: string;
  readonly model: string;
}

export type RollupSpan = '1m' | '1h' | '1d';

export const SPAN_MS: Readonly<Record<RollupSpan, number>> = { '1m': 60_000, '1h': 3_600_000, '1d': 86_400_000 };

/** Union Square's `metrics_1min` row, for LLM and tool calls. Latency figures are microseconds. */
export interface CallRollup extends RollupKey {
  readonly span: RollupSpan;
  readonly bucket_ms: number;
  readonly requests: number;
  readonly errors: number;
  readonly cache_hits: number;
  readonly input_tokens: number;
  readonly output_tokens: number;
  readonly cached_input_tokens: number;
  readonly total_tokens: number;
  readonly cost_usd: number;
  /** Calls whose cost was known (cost coverage). */
  readonly cost_known: number;
  readonly latency_p50_us: number | null;
  readonly latency_p90_us: number | null;
  readonly latency_p99_us: number | null;
  readonly latency_max_us: number | null;
  readonly latency: QuantileSketch;
  readonly ttft: QuantileSketch;
  readonly tool_calls: number;
  readonly tool_errors: number;
  readonly tool_latency: QuantileSketch;
}

/** Finished runs of one key and outcome in one bucket, with enzu's mergeable run statistics. */
export interface RunRollup extends RollupKey {
  readonly span: RollupSpan;
  readonly bucket_ms: number;
  readonly outcome: Outcome;
  readonly runs: number;
  /** Per-run elapsed, cost, tokens and retries sketches, outcomes, retry reasons, cost coverage. */
  readonly stats: RunStats;
  /** Confusion counts of runs whose attributes carry boolean `expected` and `actual`. */
  readonly true_positives: number;
  readonly false_positives: number;
  readonly false_negatives: number;
  readonly true_negatives: number;
}

export interface RollupQuery {
  readonly since: number;
  readonly until: number;
  readonly app?: string;
  readonly flow?: string;
  readonly agent?: string;
  readonly provider?: string;
  readonly model?: string;
  /** Force one resolution (e.g. `1m` for a chart with one point per minute). Default: the coarsest that tiles the window. */
  readonly span?: RollupSpan;
}

export interface RollupSet {
  readonly calls: readonly CallRollup[];
  readonly runs: readonly RunRollup[];
}

export interface RetentionCutoffs {
  /** Raw runs, steps, calls and retries older than this go (epoch ms). */
  readonly rawBefore?: number;
  /** Rollups older than this go (epoch ms). */
  readonly rollupsBefore?: number;
}

export interface RetentionResult {
  readonly runs: number;
  readonly calls: number;
  readonly rollups: number;
}

export interface StoreInfo {
  readonly kind: StoreKind;
  readonly location: string;
  readonly schema_version: number;
  readonly runs: number;
  readonly calls: number;
  readonly steps: number;
  readonly retries: number;
  readonly call_rollups: number;
  readonly run_rollups: number;
}

/** A store's problem as one line a person can act on (a corrupt file, a newer schema, a server that is down). */
export class StoreError extends Error {
  override readonly name = 'StoreError';
}

/** Re-exported for implementers that turn events into a batch. */
export type { FlowEvent };
