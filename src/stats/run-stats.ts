import type { Outcome, RetryReason } from '../model/outcome.js';
import { OUTCOMES, RETRY_REASONS, isRetryReason } from '../model/outcome.js';
import type { RunEvent } from '../model/run-event.js';
import { QuantileSketch } from './quantile-sketch.js';

/** The per-run values enzu keeps histograms of, in enzu's order. */
export const RUN_METRICS = [
  'elapsed_seconds',
  'cost_usd',
  'total_tokens',
  'input_tokens',
  'output_tokens',
  'retries',
] as const;

export type RunMetric = (typeof RUN_METRICS)[number];

/** enzu's `runs_total{outcome,partial}` flattened into one key, e.g. `"timeout|partial=1"`. */
export type OutcomeKey = `${Outcome}|partial=${0 | 1}`;

export interface Percentiles {
  readonly p50: number | null;
  readonly p95: number | null;
  readonly p99: number | null;
}

/** Exact moments of one metric, beside the sketch's percentiles. */
export interface MetricDistribution {
  readonly count: number;
  readonly sum: number;
  readonly min: number | null;
  readonly max: number | null;
}

/**
 * enzu's `RunMetricsCollector.snapshot()`, key for key, so code written against it ports
 * unchanged; `distributions` is flowmeter's addition. Object keys are sorted, so the same
 * stats always serialize to the same JSON.
 */
export interface RunSnapshot {
  readonly total_runs: number;
  readonly cost_known_runs: number;
  readonly cost_unknown_runs: number;
  readonly cost_coverage: number;
  readonly percentiles: Readonly<Record<RunMetric, Percentiles>>;
  readonly outcome_distribution: Readonly<Partial<Record<OutcomeKey, number>>>;
  readonly retry_reason_distribution: Readonly<Partial<Record<RetryReason, number>>>;
  readonly budget_exceeded_during_retry: number;
  readonly budget_exceeded_during_retry_rate: number;
  readonly averages: {
    readonly elapsed_seconds: number | null;
    readonly cost_usd: number | null;
    readonly total_tokens: number | null;
  };
  readonly distributions: Readonly<Record<RunMetric, MetricDistribution>>;
}

export const RUN_STATS_FORMAT = 'flowmeter.run_stats.v1';

/** The mergeable state of a `RunStats`, safe to send between processes as JSON. */
export interface RunStatsJSON {
  readonly format: typeof RUN_STATS_FORMAT;
  readonly total_runs: number;
  readonly cost_unknown_runs: number;
  readonly budget_exceeded_during_retry: number;
  readonly outcomes: Readonly<Partial<Record<OutcomeKey, number>>>;
  readonly retry_reasons: Readonly<Partial<Record<RetryReason, number>>>;
  /** One base64 DDSketch per metric (see `QuantileSketch.toBase64`). */
  readonly sketches: Readonly<Record<RunMetric, string>>;
}

export function outcomeKey(outcome: Outcome, partial: boolean): OutcomeKey {
  return `${outcome}|partial=${partial ? 1 : 0}`;
}

const OUTCOME_KEYS: ReadonlySet<string> = new Set(
  OUTCOMES.flatMap((outcome) => [outcomeKey(outcome, false), outcomeKey(outcome, true)]),
);

/**
 * Run statistics over `RunEvent`s: enzu's collector, with percentiles from DDSketches
 * instead of enzu's bucket interpolation, and mergeable, so the stats of several meters or
 * processes add up to the stats of all their runs.
 */
export class RunStats {
  #totalRuns = 0;
  #costUnknownRuns = 0;
  #budgetExceededDuringRetry = 0;
  readonly #outcomes = new Map<OutcomeKey, number>();
  readonly #retryReasons = new Map<RetryReason, number>();
  readonly #sketches = newSketches();

  observe(event: RunEvent): void {
    this.#totalRuns += 1;
    addCount(this.#outcomes, outcomeKey(event.outcome, event.partial), 1);
    if (event.budget_exceeded_during_retry) this.#budgetExceededDuringRetry += 1;
    for (const reason of RETRY_REASONS) {
      const retries = event.retries_by_reason[reason];
      if (retries !== undefined && Number.isFinite(retries) && retries > 0) {
        addCount(this.#retryReasons, reason, retries);
      }
    }
    // A null field was not measured: it stays out of the sketch instead of counting as 0.
    // Cost is "known" exactly when it reaches the sketch, so coverage and p95 agree.
    const costKnown = event.cost_usd !== null && Number.isFinite(event.cost_usd) && event.cost_usd >= 0;
    if (!costKnown) this.#costUnknownRuns += 1;
    for (const metric of RUN_METRICS) {
      const value = event[metric];
      if (value !== null) this.#sketches[metric].add(value);
    }
  }

  /** The value of one metric at quantile `q` (0…1), within 1%; null when no run measured it. */
  quantile(metric: RunMetric, q: number): number | null {
    return this.#sketches[metric].quantile(q);
  }

  get totalRuns(): number {
    return this.#totalRuns;
  }

  /** Adds everything `other` observed to this; `other` is left unchanged. */
  merge(other: RunStats): void {
    this.#totalRuns += other.#totalRuns;
    this.#costUnknownRuns += other.#costUnknownRuns;
    this.#budgetExceededDuringRetry += other.#budgetExceededDuringRetry;
    for (const [key, count] of other.#outcomes) addCount(this.#outcomes, key, count);
    for (const [reason, count] of other.#retryReasons) addCount(this.#retryReasons, reason, count);
    for (const metric of RUN_METRICS) this.#sketches[metric].merge(other.#sketches[metric]);
  }

  snapshot(): RunSnapshot {
    const sketch = this.#sketches;
    const costKnown = sketch.cost_usd.count;
    return {
      total_runs: this.#totalRuns,
      cost_known_runs: costKnown,
      cost_unknown_runs: this.#costUnknownRuns,
      // enzu: cost_known / max(1, cost_known + cost_unknown), so no runs gives 0, not NaN.
      cost_coverage: costKnown / Math.max(1, costKnown + this.#costUnknownRuns),
      percentiles: perMetric((metric) => ({
        p50: sketch[metric].quantile(0.5),
        p95: sketch[metric].quantile(0.95),
        p99: sketch[metric].quantile(0.99),
      })),
      outcome_distribution: sortedRecord(this.#outcomes),
      retry_reason_distribution: sortedRecord(this.#retryReasons),
      budget_exceeded_during_retry: this.#budgetExceededDuringRetry,
      // enzu's rate is over all runs, not over runs that retried.
      budget_exceeded_during_retry_rate: this.#totalRuns === 0 ? 0 : this.#budgetExceededDuringRetry / this.#totalRuns,
      averages: {
        elapsed_seconds: sketch.elapsed_seconds.mean,
        cost_usd: sketch.cost_usd.mean,
        total_tokens: sketch.total_tokens.mean,
      },
      distributions: perMetric((metric) => ({
        count: sketch[metric].count,
        sum: sketch[metric].sum,
        min: sketch[metric].min,
        max: sketch[metric].max,
      })),
    };
  }

  toJSON(): RunStatsJSON {
    return {
      format: RUN_STATS_FORMAT,
      total_runs: this.#totalRuns,
      cost_unknown_runs: this.#costUnknownRuns,
      budget_exceeded_during_retry: this.#budgetExceededDuringRetry,
      outcomes: sortedRecord(this.#outcomes),
      retry_reasons: sortedRecord(this.#retryReasons),
      sketches: perMetric((metric) => this.#sketches[metric].toBase64()),
    };
  }

  /**
   * Rebuilds stats from `toJSON()` output, typically parsed from another process.
   * Throws a TypeError naming the first bad field when `value` is not such a state.
   */
  static fromJSON(value: unknown): RunStats {
    const state = asObject(value, 'state');
    if (state.format !== RUN_STATS_FORMAT) {
      throw new TypeError(`RunStats.fromJSON: expected format "${RUN_STATS_FORMAT}", got ${JSON.stringify(state.format)}`);
    }
    const stats = new RunStats();
    stats.#totalRuns = asCount(state.total_runs, 'total_runs');
    stats.#costUnknownRuns = asCount(state.cost_unknown_runs, 'cost_unknown_runs');
    stats.#budgetExceededDuringRetry = asCount(state.budget_exceeded_during_retry, 'budget_exceeded_during_retry');
    for (const [key, count] of Object.entries(asObject(state.outcomes, 'outcomes'))) {
      if (!OUTCOME_KEYS.has(key)) throw new TypeError(`RunStats.fromJSON: unknown outcome key "${key}"`);
      addCount(stats.#outcomes, key as OutcomeKey, asCount(count, `outcomes.${key}`));
    }
    for (const [reason, count] of Object.entries(asObject(state.retry_reasons, 'retry_reasons'))) {
      if (!isRetryReason(reason)) throw new TypeError(`RunStats.fromJSON: unknown retry reason "${reason}"`);
      addCount(stats.#retryReasons, reason, asCount(count, `retry_reasons.${reason}`));
    }
    const sketches = asObject(state.sketches, 'sketches');
    for (const metric of RUN_METRICS) {
      const encoded = sketches[metric];
      if (typeof encoded !== 'string') throw new TypeError(`RunStats.fromJSON: sketches.${metric} must be a base64 string`);
      stats.#sketches[metric].merge(QuantileSketch.fromBase64(encoded));
    }
    // Every run's cost is either in the cost sketch or counted unknown; a mismatch means the
    // fields were taken from different states.
    if (stats.#sketches.cost_usd.count + stats.#costUnknownRuns !== stats.#totalRuns) {
      throw new TypeError('RunStats.fromJSON: total_runs does not equal known-cost plus unknown-cost runs');
    }
    return stats;
  }
}

function newSketches(): Record<RunMetric, QuantileSketch> {
  return perMetric(() => new QuantileSketch());
}

function perMetric<T>(build: (metric: RunMetric) => T): Record<RunMetric, T> {
  return {
    elapsed_seconds: build('elapsed_seconds'),
    cost_usd: build('cost_usd'),
    total_tokens: build('total_tokens'),
    input_tokens: build('input_tokens'),
    output_tokens: build('output_tokens'),
    retries: build('retries'),
  };
}

function addCount<K>(counts: Map<K, number>, key: K, amount: number): void {
  counts.set(key, (counts.get(key) ?? 0) + amount);
}

/** Plain object with keys in code-unit order, independent of insertion order and locale. */
function sortedRecord<K extends string>(counts: ReadonlyMap<K, number>): Partial<Record<K, number>> {
  const keys = [...counts.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const record: Partial<Record<K, number>> = {};
  for (const key of keys) record[key] = counts.get(key);
  return record;
}

function asObject(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(`RunStats.fromJSON: ${field} must be an object`);
  }
  return value as Record<string, unknown>;
}

function asCount(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new TypeError(`RunStats.fromJSON: ${field} must be a non-negative number, got ${JSON.stringify(value)}`);
  }
  return value;
}
