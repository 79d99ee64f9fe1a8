import { fScore } from '../stats/index.js';
import type { FScore, OutcomeKey, Percentiles, RunSnapshot } from '../stats/index.js';
import type { RetryReason } from '../model/index.js';
import type { CallQuery, Store } from './store.js';
import type { GroupBy, WindowGroup, WindowQuery } from './window.js';
import { windowGroups } from './window.js';

export const REPORT_FORMAT = 'flowmeter.report.v1';

export interface ReportModel {
  readonly model: string;
  readonly requests: number;
  readonly input_tokens: number;
  readonly output_tokens: number;
  readonly cached_input_tokens: number;
  readonly total_tokens: number;
  /** Sum of the calls whose cost is known; null when none was. */
  readonly cost_usd: number | null;
  readonly cost_coverage: number;
}

export interface ReportCall {
  readonly run_id: string;
  readonly seq: number;
  readonly kind: 'llm' | 'tool';
  readonly name: string;
  readonly duration_ms: number;
  readonly ended_at: string;
  readonly success: boolean;
}

export interface ReportGroup {
  /** The group's value (`all` when the report is not grouped; '' for runs without that id). */
  readonly group: string;
  readonly runs: number;
  readonly success_rate: number | null;
  readonly cost_per_run_usd: Percentiles;
  readonly time_per_run_seconds: Percentiles;
  readonly tokens_per_run: Percentiles;
  readonly outcomes: Readonly<Partial<Record<OutcomeKey, number>>>;
  readonly retry_reasons: Readonly<Partial<Record<RetryReason, number>>>;
  readonly cost_coverage: number;
  readonly calls: {
    readonly requests: number;
    readonly errors: number;
    readonly error_rate: number | null;
    readonly cache_hits: number;
    readonly latency_ms: Percentiles;
    readonly ttft_ms: Percentiles;
    readonly tool_calls: number;
    readonly tool_errors: number;
    readonly tool_latency_ms: Percentiles;
  };
  readonly models: readonly ReportModel[];
  /** The five slowest calls of the group; null for groups calls cannot be filtered by (outcome). */
  readonly slowest_calls: readonly ReportCall[] | null;
  /** Precision, recall and F1 over runs whose attributes carry boolean `expected` and `actual`; null when none do. */
  readonly fscore: (FScore & { readonly labelled_runs: number }) | null;
  /** enzu's snapshot keys, as `meter.snapshot()` gives them for the same runs. */
  readonly snapshot: RunSnapshot;
}

export interface Report {
  readonly format: typeof REPORT_FORMAT;
  readonly since: string;
  readonly until: string;
  readonly by: GroupBy | null;
  readonly store: string;
  readonly groups: readonly ReportGroup[];
}

function percentiles(q: (p: number) => number | null): Percentiles {
  return { p50: q(0.5), p95: q(0.95), p99: q(0.99) };
}

function callFilter(by: GroupBy | undefined, key: string, base: CallQuery): CallQuery | null {
  switch (by) {
    case undefined:
      return base;
    case 'flow':
      return { ...base, flow: key };
    case 'model':
      return { ...base, model: key, kind: 'llm' };
    case 'agent':
      return { ...base, agent: key };
    case 'provider':
      return { ...base, provider: key, kind: 'llm' };
    case 'app':
      return { ...base, app: key };
    case 'day': {
      const from = Date.parse(`${key}T00:00:00.000Z`);
      return { ...base, since: Math.max(base.since ?? from, from), until: Math.min(base.until ?? from + 86_400_000, from + 86_400_000) };
    }
    case 'outcome':
      return null;
    default: {
      const unreachable: never = by;
      return unreachable;
    }
  }
}

/**
 * The report over a window: counts and sums exact, percentiles merged from rollup sketches
 * (within 1%), the slowest calls from raw rows.
 */
export async function buildReport(store: Store, query: WindowQuery): Promise<Report> {
  const groups = await windowGroups(store, query);
  const out: ReportGroup[] = [];
  for (const g of groups) {
    const filter = callFilter(query.by, g.key, { since: query.since, until: query.until, limit: 5, order: 'slowest' });
    const slowest = filter === null ? null : (await store.calls(filter)).map(
      (c): ReportCall => ({
        run_id: c.run_id,
        seq: c.seq,
        kind: c.kind,
        name: c.kind === 'llm' ? (c.model ?? '') : (c.tool ?? ''),
        duration_ms: c.duration_ms,
        ended_at: new Date(c.end_ms).toISOString(),
        success: c.success,
      }),
    );
    out.push(reportGroup(g, slowest));
  }
  return { format: REPORT_FORMAT, since: new Date(query.since).toISOString(), until: new Date(query.until).toISOString(), by: query.by ?? null, store: store.location, groups: out };
}

function reportGroup(g: WindowGroup, slowest: readonly ReportCall[] | null): ReportGroup {
  const snapshot = g.runs.snapshot();
  const total = snapshot.total_runs;
  const successes = (snapshot.outcome_distribution['success|partial=0'] ?? 0) + (snapshot.outcome_distribution['success|partial=1'] ?? 0);
  const c = g.confusion;
  const labelled = c.true_positives + c.false_positives + c.false_negatives + c.true_negatives;
  const pairs = [
    ...Array.from({ length: c.true_positives }, () => ({ expected: true, actual: true })),
    ...Array.from({ length: c.false_positives }, () => ({ expected: false, actual: true })),
    ...Array.from({ length: c.false_negatives }, () => ({ expected: true, actual: false })),
    ...Array.from({ length: c.true_negatives }, () => ({ expected: false, actual: false })),
  ];
  return {
    group: g.key,
    runs: total,
    success_rate: total === 0 ? null : successes / total,
    cost_per_run_usd: snapshot.percentiles.cost_usd,
    time_per_run_seconds: snapshot.percentiles.elapsed_seconds,
    tokens_per_run: snapshot.percentiles.total_tokens,
    outcomes: snapshot.outcome_distribution,
    retry_reasons: snapshot.retry_reason_distribution,
    cost_coverage: snapshot.cost_coverage,
    calls: {
      requests: g.calls.requests,
      errors: g.calls.errors,
      error_rate: g.calls.requests === 0 ? null : g.calls.errors / g.calls.requests,
      cache_hits: g.calls.cacheHits,
      latency_ms: percentiles((q) => g.calls.latency.quantile(q)),
      ttft_ms: percentiles((q) => g.calls.ttft.quantile(q)),
      tool_calls: g.calls.toolCalls,
      tool_errors: g.calls.toolErrors,
      tool_latency_ms: percentiles((q) => g.calls.toolLatency.quantile(q)),
    },
    models: [...g.models.entries()]
      .map(([model, m]) => ({
        model,
        requests: m.requests,
        input_tokens: m.input_tokens,
        output_tokens: m.output_tokens,
        cached_input_tokens: m.cached_input_tokens,
        total_tokens: m.total_tokens,
        cost_usd: m.cost_known === 0 ? null : m.cost_usd,
        cost_coverage: m.requests === 0 ? 0 : m.cost_known / m.requests,
      }))
      .sort((a, b) => (b.cost_usd ?? 0) - (a.cost_usd ?? 0) || b.total_tokens - a.total_tokens || (a.model < b.model ? -1 : 1)),
    slowest_calls: slowest,
    fscore: labelled === 0 ? null : { ...fScore(pairs), labelled_runs: labelled },
    snapshot,
  };
}
