import { RunStats } from '../stats/index.js';
import { CallAgg } from './rollup.js';
import { mergeCallSketches, mergeRunStats } from './sql-queries.js';
import type { CallRollup, RollupQuery, RunRollup, Store } from './store.js';

/** What a window can be split by. */
export const GROUP_BY = ['flow', 'model', 'agent', 'provider', 'outcome', 'app', 'day'] as const;
export type GroupBy = (typeof GROUP_BY)[number];

export function isGroupBy(value: string): value is GroupBy {
  return (GROUP_BY as readonly string[]).includes(value);
}

/** Token and cost totals of one model in a window (from LLM call rollups). */
export interface ModelTotals {
  requests: number;
  input_tokens: number;
  output_tokens: number;
  cached_input_tokens: number;
  total_tokens: number;
  cost_usd: number;
  cost_known: number;
}

export interface Confusion {
  true_positives: number;
  false_positives: number;
  false_negatives: number;
  true_negatives: number;
}

/** Every run and call of one group in a window, merged from rollups: counts and sums exact, percentiles within 1%. */
export interface WindowGroup {
  /** The group's value ('' for runs without it, e.g. no app id); `all` when not grouped. */
  readonly key: string;
  readonly runs: RunStats;
  readonly calls: CallAgg;
  readonly models: ReadonlyMap<string, ModelTotals>;
  readonly confusion: Confusion;
}

export interface WindowQuery {
  readonly since: number;
  readonly until: number;
  readonly by?: GroupBy;
  readonly filters?: Omit<RollupQuery, 'since' | 'until' | 'span'>;
}

const DAY_MS = 86_400_000;

/** Adds one call rollup row to an aggregate: counts and sums, and its sketches merged. */
export function addCallRollup(agg: CallAgg, row: CallRollup): void {
  agg.requests += row.requests;
  agg.errors += row.errors;
  agg.cacheHits += row.cache_hits;
  agg.inputTokens += row.input_tokens;
  agg.outputTokens += row.output_tokens;
  agg.cachedInputTokens += row.cached_input_tokens;
  agg.totalTokens += row.total_tokens;
  agg.costUsd += row.cost_usd;
  agg.costKnown += row.cost_known;
  agg.toolCalls += row.tool_calls;
  agg.toolErrors += row.tool_errors;
  mergeCallSketches(agg, row);
}

/** The group a call rollup row belongs to; null when calls cannot be split that way (by outcome). */
export function keyOfCall(row: CallRollup, by: GroupBy | undefined): string | null {
  switch (by) {
    case undefined:
      return 'all';
    case 'flow':
      return row.flow_id;
    case 'model':
      return row.model;
    case 'agent':
      return row.agent;
    case 'provider':
      return row.provider;
    case 'app':
      return row.app_id;
    case 'day':
      return new Date(Math.floor(row.bucket_ms / DAY_MS) * DAY_MS).toISOString().slice(0, 10);
    case 'outcome':
      // Calls carry no outcome; by-outcome groups hold run statistics only.
      return null;
    default: {
      const unreachable: never = by;
      return unreachable;
    }
  }
}

export function keyOfRun(row: RunRollup, by: GroupBy | undefined): string {
  return by === 'outcome' ? row.outcome : (keyOfCall(row as unknown as CallRollup, by) ?? 'all');
}

interface MutableGroup {
  key: string;
  runs: RunStats;
  calls: CallAgg;
  models: Map<string, ModelTotals>;
  confusion: Confusion;
}

/** The window's groups, largest (by runs, then calls) first. */
export async function windowGroups(store: Store, query: WindowQuery): Promise<WindowGroup[]> {
  const set = await store.rollups({ since: query.since, until: query.until, ...query.filters });
  const groups = new Map<string, MutableGroup>();
  const group = (key: string): MutableGroup => {
    let g = groups.get(key);
    if (g === undefined) {
      g = { key, runs: new RunStats(), calls: new CallAgg(), models: new Map(), confusion: { true_positives: 0, false_positives: 0, false_negatives: 0, true_negatives: 0 } };
      groups.set(key, g);
    }
    return g;
  };
  for (const row of set.runs) {
    const g = group(keyOfRun(row, query.by));
    mergeRunStats(g.runs, row);
    g.confusion.true_positives += row.true_positives;
    g.confusion.false_positives += row.false_positives;
    g.confusion.false_negatives += row.false_negatives;
    g.confusion.true_negatives += row.true_negatives;
  }
  for (const row of set.calls) {
    const key = keyOfCall(row, query.by);
    if (key === null) continue;
    const g = group(key);
    addCallRollup(g.calls, row);
    if (row.requests > 0) {
      let m = g.models.get(row.model);
      if (m === undefined) {
        m = { requests: 0, input_tokens: 0, output_tokens: 0, cached_input_tokens: 0, total_tokens: 0, cost_usd: 0, cost_known: 0 };
        g.models.set(row.model, m);
      }
      m.requests += row.requests;
      m.input_tokens += row.input_tokens;
      m.output_tokens += row.output_tokens;
      m.cached_input_tokens += row.cached_input_tokens;
      m.total_tokens += row.total_tokens;
      m.cost_usd += row.cost_usd;
      m.cost_known += row.cost_known;
    }
  }
  return [...groups.values()].sort((a, b) => b.runs.totalRuns - a.runs.totalRuns || b.calls.requests - a.calls.requests || (a.key < b.key ? -1 : 1));
}
