import type { Outcome } from '../model/index.js';
import { QuantileSketch, RunStats } from '../stats/index.js';
import type { CallRow, RollupKey, RollupSpan, RunRow } from './store.js';
import { SPAN_MS } from './store.js';

/** Every rollup is kept at three resolutions, so a 30-day window reads days, not 43,200 minutes. */
export const ROLLUP_SPANS: readonly RollupSpan[] = ['1m', '1h', '1d'];

/** Mergeable aggregate of the calls of one key in one bucket. Latencies are in milliseconds. */
export class CallAgg {
  requests = 0;
  errors = 0;
  cacheHits = 0;
  inputTokens = 0;
  outputTokens = 0;
  cachedInputTokens = 0;
  totalTokens = 0;
  costUsd = 0;
  costKnown = 0;
  toolCalls = 0;
  toolErrors = 0;
  readonly latency: QuantileSketch;
  readonly ttft: QuantileSketch;
  readonly toolLatency: QuantileSketch;

  constructor(latency = new QuantileSketch(), ttft = new QuantileSketch(), toolLatency = new QuantileSketch()) {
    this.latency = latency;
    this.ttft = ttft;
    this.toolLatency = toolLatency;
  }

  add(call: CallRow): void {
    if (call.kind === 'tool') {
      this.toolCalls += 1;
      if (!call.success) this.toolErrors += 1;
      this.toolLatency.add(call.duration_ms);
      return;
    }
    this.requests += 1;
    if (!call.success) this.errors += 1;
    if (call.cache_hit === true) this.cacheHits += 1;
    if (call.input_tokens !== null) this.inputTokens += call.input_tokens;
    if (call.output_tokens !== null) this.outputTokens += call.output_tokens;
    if (call.cached_input_tokens !== null) this.cachedInputTokens += call.cached_input_tokens;
    if (call.total_tokens !== null) this.totalTokens += call.total_tokens;
    if (call.cost_usd !== null) {
      this.costUsd += call.cost_usd;
      this.costKnown += 1;
    }
    this.latency.add(call.duration_ms);
    if (call.ttft_ms !== null) this.ttft.add(call.ttft_ms);
  }

  merge(other: CallAgg): void {
    this.requests += other.requests;
    this.errors += other.errors;
    this.cacheHits += other.cacheHits;
    this.inputTokens += other.inputTokens;
    this.outputTokens += other.outputTokens;
    this.cachedInputTokens += other.cachedInputTokens;
    this.totalTokens += other.totalTokens;
    this.costUsd += other.costUsd;
    this.costKnown += other.costKnown;
    this.toolCalls += other.toolCalls;
    this.toolErrors += other.toolErrors;
    this.latency.merge(other.latency);
    this.ttft.merge(other.ttft);
    this.toolLatency.merge(other.toolLatency);
  }
}

/** Mergeable aggregate of the finished runs of one key and outcome in one bucket. */
export class RunAgg {
  runs = 0;
  truePositives = 0;
  falsePositives = 0;
  falseNegatives = 0;
  trueNegatives = 0;
  readonly stats: RunStats;

  constructor(stats = new RunStats()) {
    this.stats = stats;
  }

  add(run: RunRow): void {
    this.runs += 1;
    this.stats.observe(runEventOf(run));
    const expected = run.attributes.expected;
    const actual = run.attributes.actual;
    if (typeof expected === 'boolean' && typeof actual === 'boolean') {
      if (expected && actual) this.truePositives += 1;
      else if (!expected && actual) this.falsePositives += 1;
      else if (expected && !actual) this.falseNegatives += 1;
      else this.trueNegatives += 1;
    }
  }

  merge(other: RunAgg): void {
    this.runs += other.runs;
    this.truePositives += other.truePositives;
    this.falsePositives += other.falsePositives;
    this.falseNegatives += other.falseNegatives;
    this.trueNegatives += other.trueNegatives;
    this.stats.merge(other.stats);
  }
}

/** The fields of a finished run that RunStats reads; a running row never reaches a rollup. */
function runEventOf(run: RunRow): Parameters<RunStats['observe']>[0] {
  return {
    run_id: run.run_id,
    task_id: run.task_id,
    flow_id: run.flow_id,
    agent: run.agent,
    exec_mode: run.exec_mode === 'dry_run' ? 'dry_run' : 'live',
    branch: run.branch,
    provider: run.provider,
    model: run.model,
    outcome: run.outcome ?? 'success',
    success: run.success ?? false,
    partial: run.partial ?? false,
    started_at: '',
    finished_at: '',
    elapsed_seconds: run.elapsed_seconds ?? 0,
    input_tokens: run.input_tokens,
    output_tokens: run.output_tokens,
    total_tokens: run.total_tokens,
    cached_input_tokens: run.cached_input_tokens,
    cost_usd: run.cost_usd,
    limits_exceeded: run.limits_exceeded,
    retries: run.retries ?? 0,
    retries_by_reason: run.retries_by_reason,
    retry_backoff_seconds: run.retry_backoff_seconds ?? 0,
    budget_exceeded_during_retry: run.budget_exceeded_during_retry ?? false,
    llm_calls: run.llm_calls ?? 0,
    tool_calls: run.tool_calls ?? 0,
    steps: run.steps ?? 0,
    error_type: run.error_type,
    app_id: run.app_id,
    session_id: run.session_id,
    user_id: run.user_id,
    attributes: {},
  };
}

export interface CallCell {
  readonly span: RollupSpan;
  readonly bucket_ms: number;
  readonly key: RollupKey;
  readonly agg: CallAgg;
}

export interface RunCell {
  readonly span: RollupSpan;
  readonly bucket_ms: number;
  readonly key: RollupKey;
  readonly outcome: Outcome;
  readonly agg: RunAgg;
}

const SEP = '\u0000';

export function floorTo(ms: number, span: RollupSpan): number {
  const size = SPAN_MS[span];
  return Math.floor(ms / size) * size;
}

/**
 * What one write adds to the rollup tables, at every resolution: built in memory from
 * the rows a transaction actually inserted, then merged into the stored rows in that
 * same transaction. Rows are added to their minute cell only; the hour and day cells are
 * merged from the minute cells when they are read (a sketch merge adds bins, so this
 * equals adding every value three times, at a third of the cost).
 */
export class RollupDelta {
  readonly #calls = new Map<string, CallCell>();
  readonly #runs = new Map<string, RunCell>();

  get empty(): boolean {
    return this.#calls.size === 0 && this.#runs.size === 0;
  }

  addCall(call: CallRow): void {
    const key: RollupKey = {
      app_id: call.app_id ?? '',
      flow_id: call.flow_id,
      agent: call.agent,
      provider: call.provider ?? '',
      model: call.model ?? '',
    };
    const bucket = floorTo(call.end_ms, '1m');
    const id = `${bucket}${SEP}${keyText(key)}`;
    let cell = this.#calls.get(id);
    if (cell === undefined) {
      cell = { span: '1m', bucket_ms: bucket, key, agg: new CallAgg() };
      this.#calls.set(id, cell);
    }
    cell.agg.add(call);
  }

  addRun(run: RunRow): void {
    if (run.status !== 'finished' || run.end_ms === null || run.outcome === null) return;
    const key: RollupKey = {
      app_id: run.app_id ?? '',
      flow_id: run.flow_id,
      agent: run.agent,
      provider: run.provider ?? '',
      model: run.model ?? '',
    };
    const bucket = floorTo(run.end_ms, '1m');
    const id = `${bucket}${SEP}${keyText(key)}${SEP}${run.outcome}`;
    let cell = this.#runs.get(id);
    if (cell === undefined) {
      cell = { span: '1m', bucket_ms: bucket, key, outcome: run.outcome, agg: new RunAgg() };
      this.#runs.set(id, cell);
    }
    cell.agg.add(run);
  }

  merge(other: RollupDelta): void {
    for (const [id, cell] of other.#calls) {
      const mine = this.#calls.get(id);
      if (mine === undefined) this.#calls.set(id, { ...cell, agg: copyCall(cell.agg) });
      else mine.agg.merge(cell.agg);
    }
    for (const [id, cell] of other.#runs) {
      const mine = this.#runs.get(id);
      if (mine === undefined) this.#runs.set(id, { ...cell, agg: copyRun(cell.agg) });
      else mine.agg.merge(cell.agg);
    }
  }

  /** Cells of every span in one fixed order (by id), so concurrent writers lock rows in the same order and never deadlock. */
  callCells(): CallCell[] {
    const all = new Map<string, CallCell>();
    for (const [id, cell] of this.#calls) {
      all.set(`1m${SEP}${id}`, cell);
      for (const span of COARSER_SPANS) {
        const bucket = floorTo(cell.bucket_ms, span);
        const coarseId = `${span}${SEP}${bucket}${SEP}${keyText(cell.key)}`;
        const coarse = all.get(coarseId);
        if (coarse === undefined) all.set(coarseId, { span, bucket_ms: bucket, key: cell.key, agg: copyCall(cell.agg) });
        else coarse.agg.merge(cell.agg);
      }
    }
    return [...all.entries()].sort(byId).map(([, cell]) => cell);
  }

  runCells(): RunCell[] {
    const all = new Map<string, RunCell>();
    for (const [id, cell] of this.#runs) {
      all.set(`1m${SEP}${id}`, cell);
      for (const span of COARSER_SPANS) {
        const bucket = floorTo(cell.bucket_ms, span);
        const coarseId = `${span}${SEP}${bucket}${SEP}${keyText(cell.key)}${SEP}${cell.outcome}`;
        const coarse = all.get(coarseId);
        if (coarse === undefined) all.set(coarseId, { span, bucket_ms: bucket, key: cell.key, outcome: cell.outcome, agg: copyRun(cell.agg) });
        else coarse.agg.merge(cell.agg);
      }
    }
    return [...all.entries()].sort(byId).map(([, cell]) => cell);
  }
}

const COARSER_SPANS: readonly RollupSpan[] = ROLLUP_SPANS.filter((span) => span !== '1m');

function byId(a: [string, unknown], b: [string, unknown]): number {
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
}

function keyText(key: RollupKey): string {
  return `${key.app_id}${SEP}${key.flow_id}${SEP}${key.agent}${SEP}${key.provider}${SEP}${key.model}`;
}

function copyCall(agg: CallAgg): CallAgg {
  const copy = new CallAgg();
  copy.merge(agg);
  return copy;
}

function copyRun(agg: RunAgg): RunAgg {
  const copy = new RunAgg();
  copy.merge(agg);
  return copy;
}

/** Latency columns of a call rollup row, in microseconds, from its sketch (null when it holds no call). */
export function latencyColumns(agg: CallAgg): { p50: number | null; p90: number | null; p99: number | null; max: number | null } {
  const us = (ms: number | null): number | null => (ms === null ? null : Math.round(ms * 1000));
  return { p50: us(agg.latency.quantile(0.5)), p90: us(agg.latency.quantile(0.9)), p99: us(agg.latency.quantile(0.99)), max: us(agg.latency.max) };
}
