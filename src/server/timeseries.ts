import { RunStats } from '../stats/index.js';
import { CallAgg } from '../store/rollup.js';
import { mergeRunStats } from '../store/sql-queries.js';
import type { RollupSpan, Store } from '../store/store.js';
import { addCallRollup, keyOfCall, keyOfRun } from '../store/window.js';
import type { GroupBy } from '../store/window.js';

/** What `/api/timeseries` can chart, each from the rollups. */
export const SERIES_METRICS = [
  'runs_per_second',
  'requests_per_second',
  'error_rate',
  'latency_p50_ms',
  'latency_p95_ms',
  'latency_p99_ms',
  'ttft_p50_ms',
  'ttft_p95_ms',
  'ttft_p99_ms',
  'cost_per_run_p95_usd',
  'tokens_per_second',
  'cost_per_minute_usd',
] as const;
export type SeriesMetric = (typeof SERIES_METRICS)[number];

/** Chart steps, and the rollup resolution each is built from. */
export const STEPS: Readonly<Record<string, { readonly ms: number; readonly span: RollupSpan }>> = {
  '1m': { ms: 60_000, span: '1m' },
  '5m': { ms: 300_000, span: '1m' },
  '15m': { ms: 900_000, span: '1m' },
  '1h': { ms: 3_600_000, span: '1h' },
  '6h': { ms: 21_600_000, span: '1h' },
  '1d': { ms: 86_400_000, span: '1d' },
};

/** What a series can be split by: the rollups' dimensions. */
export const SERIES_BY = ['model', 'flow', 'agent', 'provider', 'app'] as const;
export type SeriesBy = (typeof SERIES_BY)[number];

export interface SeriesQuery {
  readonly metric: SeriesMetric;
  readonly since: number;
  readonly until: number;
  readonly step: string;
  readonly by?: SeriesBy;
}

export interface Series {
  /** The group's value, `all` when not split. */
  readonly key: string;
  /** `[bucket start (epoch ms), value]`, one per step with data; null where the figure is unknown (a percentile of no calls). */
  readonly points: [number, number | null][];
}

export interface SeriesAnswer {
  readonly metric: SeriesMetric;
  readonly step_ms: number;
  readonly since: number;
  readonly until: number;
  readonly series: Series[];
}

const RUN_METRICS: ReadonlySet<SeriesMetric> = new Set(['runs_per_second', 'cost_per_run_p95_usd']);

function callValue(metric: SeriesMetric, agg: CallAgg, stepMs: number): number | null {
  const seconds = stepMs / 1000;
  switch (metric) {
    case 'requests_per_second':
      return agg.requests / seconds;
    case 'error_rate':
      return agg.requests === 0 ? null : agg.errors / agg.requests;
    case 'latency_p50_ms':
      return agg.latency.quantile(0.5);
    case 'latency_p95_ms':
      return agg.latency.quantile(0.95);
    case 'latency_p99_ms':
      return agg.latency.quantile(0.99);
    case 'ttft_p50_ms':
      return agg.ttft.quantile(0.5);
    case 'ttft_p95_ms':
      return agg.ttft.quantile(0.95);
    case 'ttft_p99_ms':
      return agg.ttft.quantile(0.99);
    case 'tokens_per_second':
      return agg.totalTokens / seconds;
    case 'cost_per_minute_usd':
      return agg.costUsd / (seconds / 60);
    case 'runs_per_second':
    case 'cost_per_run_p95_usd':
      return null;
    default: {
      const unreachable: never = metric;
      return unreachable;
    }
  }
}

/**
 * One chart's data: rollup rows of the step's resolution, merged per step bucket (and per
 * group). Counts and sums are exact; percentiles come from merged sketches (within 1%).
 */
export async function timeseries(store: Store, query: SeriesQuery): Promise<SeriesAnswer> {
  const step = STEPS[query.step];
  if (step === undefined) throw new RangeError(`step must be one of ${Object.keys(STEPS).join(', ')}`);
  const since = Math.floor(query.since / step.ms) * step.ms;
  const set = await store.rollups({ since, until: query.until, span: step.span });
  const byRun = RUN_METRICS.has(query.metric);
  // A series splits by the report's dimensions (a subset of them).
  const by: GroupBy | undefined = query.by;
  const groups = new Map<string, Map<number, CallAgg | RunStats>>();
  const cell = (key: string, bucket: number): CallAgg | RunStats => {
    let g = groups.get(key);
    if (g === undefined) groups.set(key, (g = new Map<number, CallAgg | RunStats>()));
    let c = g.get(bucket);
    if (c === undefined) g.set(bucket, (c = byRun ? new RunStats() : new CallAgg()));
    return c;
  };
  if (byRun) {
    for (const row of set.runs) mergeRunStats(cell(keyOfRun(row, by), Math.floor(row.bucket_ms / step.ms) * step.ms) as RunStats, row);
  } else {
    for (const row of set.calls) {
      addCallRollup(cell(keyOfCall(row, by) ?? 'all', Math.floor(row.bucket_ms / step.ms) * step.ms) as CallAgg, row);
    }
  }
  const series: Series[] = [];
  for (const [key, buckets] of groups) {
    const points: [number, number | null][] = [...buckets.entries()]
      .sort(([a], [b]) => a - b)
      .map(([bucket, c]) => {
        if (c instanceof RunStats) {
          const snap = c.snapshot();
          return [bucket, query.metric === 'runs_per_second' ? snap.total_runs / (step.ms / 1000) : snap.percentiles.cost_usd.p95];
        }
        return [bucket, callValue(query.metric, c, step.ms)];
      });
    series.push({ key, points });
  }
  series.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { metric: query.metric, step_ms: step.ms, since, until: query.until, series };
}
