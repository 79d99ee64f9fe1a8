import { QuantileSketch, RunStats } from '../stats/index.js';
import type { Outcome } from '../model/index.js';
import type { CallCell, RunCell } from './rollup.js';
import { CallAgg, RunAgg, latencyColumns } from './rollup.js';
import { decodeCursor, pageSize } from './cursor.js';
import type { SqlValue } from './rows.js';
import type { CallQuery, CallRollup, RollupKey, RollupQuery, RollupSpan, RunQuery, RunRollup } from './store.js';
import { CALL_ROLLUP_COLUMNS, RUN_ROLLUP_COLUMNS } from './schema.js';
import type { Tile } from './tiles.js';

/**
 * The read queries and rollup row codecs both SQL stores share. SQL is written with `?`
 * placeholders; the PostgreSQL store numbers them (`toDollar`).
 */
export interface Sql {
  readonly text: string;
  readonly params: SqlValue[];
}

export function toDollar(text: string): string {
  let n = 0;
  return text.replace(/\?/g, () => `$${++n}`);
}

export function runsQuery(query: RunQuery): { sql: Sql; limit: number } {
  const where: string[] = [];
  const params: SqlValue[] = [];
  const eq = (column: string, value: string | undefined): void => {
    if (value === undefined) return;
    where.push(`${column} = ?`);
    params.push(value);
  };
  if (query.since !== undefined) {
    where.push('start_ms >= ?');
    params.push(query.since);
  }
  if (query.until !== undefined) {
    where.push('start_ms < ?');
    params.push(query.until);
  }
  eq('flow_id', query.flow);
  eq('agent', query.agent);
  eq('model', query.model);
  eq('outcome', query.outcome);
  eq('app_id', query.app);
  eq('session_id', query.session);
  eq('user_id', query.user);
  eq('parent_run_id', query.parent);
  eq('status', query.status);
  if (query.cursor !== undefined) {
    const cursor = decodeCursor(query.cursor);
    where.push('(start_ms < ? OR (start_ms = ? AND run_id < ?))');
    params.push(cursor.startMs, cursor.startMs, cursor.runId);
  }
  const limit = pageSize(query.limit);
  params.push(limit + 1);
  const clause = where.length > 0 ? `WHERE ${where.join(' AND ')} ` : '';
  return { sql: { text: `SELECT * FROM runs ${clause}ORDER BY start_ms DESC, run_id DESC LIMIT ?`, params }, limit };
}

export function callsQuery(query: CallQuery): Sql {
  const where: string[] = [];
  const params: SqlValue[] = [];
  if (query.since !== undefined) {
    where.push('end_ms >= ?');
    params.push(query.since);
  }
  if (query.until !== undefined) {
    where.push('end_ms < ?');
    params.push(query.until);
  }
  for (const [column, value] of [
    ['kind', query.kind],
    ['flow_id', query.flow],
    ['agent', query.agent],
    ['provider', query.provider],
    ['model', query.model],
    ['app_id', query.app],
  ] as const) {
    if (value === undefined) continue;
    where.push(`${column} = ?`);
    params.push(value);
  }
  params.push(pageSize(query.limit, 5));
  const clause = where.length > 0 ? `WHERE ${where.join(' AND ')} ` : '';
  const order = query.order === 'newest' ? 'end_ms DESC, run_id DESC, seq DESC' : 'duration_ms DESC, run_id ASC, seq ASC';
  return { text: `SELECT * FROM calls ${clause}ORDER BY ${order} LIMIT ?`, params };
}

function keyFilter(query: RollupQuery, where: string[], params: SqlValue[]): void {
  for (const [column, value] of [
    ['app_id', query.app],
    ['flow_id', query.flow],
    ['agent', query.agent],
    ['provider', query.provider],
    ['model', query.model],
  ] as const) {
    if (value === undefined) continue;
    where.push(`${column} = ?`);
    params.push(value);
  }
}

/** One query per table for all tiles of a window. */
export function rollupQueries(query: RollupQuery, tiles: readonly Tile[]): { calls: Sql; runs: Sql } | null {
  if (tiles.length === 0) return null;
  const where: string[] = [];
  const params: SqlValue[] = [];
  where.push(`(${tiles.map(() => '(span = ? AND bucket_ms >= ? AND bucket_ms < ?)').join(' OR ')})`);
  for (const tile of tiles) params.push(tile.span, tile.from, tile.to);
  keyFilter(query, where, params);
  const clause = where.join(' AND ');
  return {
    calls: { text: `SELECT * FROM call_rollups WHERE ${clause}`, params },
    runs: { text: `SELECT * FROM run_rollups WHERE ${clause}`, params: [...params] },
  };
}

type DbRow = Record<string, unknown>;

function sketchOf(value: unknown): QuantileSketch {
  if (value === null || value === undefined) return new QuantileSketch();
  return QuantileSketch.fromBytes(value as Uint8Array);
}

const n = (v: unknown): number => (typeof v === 'number' ? v : Number(v));
const nOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : n(v));

function keyOf(r: DbRow): RollupKey {
  return { app_id: String(r.app_id), flow_id: String(r.flow_id), agent: String(r.agent), provider: String(r.provider), model: String(r.model) };
}

export function callAggFromDb(r: DbRow): CallAgg {
  const agg = new CallAgg(sketchOf(r.latency_sketch), sketchOf(r.ttft_sketch), sketchOf(r.tool_sketch));
  agg.requests = n(r.requests);
  agg.errors = n(r.errors);
  agg.cacheHits = n(r.cache_hits);
  agg.inputTokens = n(r.input_tokens);
  agg.outputTokens = n(r.output_tokens);
  agg.cachedInputTokens = n(r.cached_input_tokens);
  agg.totalTokens = n(r.total_tokens);
  agg.costUsd = n(r.cost_usd);
  agg.costKnown = n(r.cost_known);
  agg.toolCalls = n(r.tool_calls);
  agg.toolErrors = n(r.tool_errors);
  return agg;
}

export function runAggFromDb(r: DbRow): RunAgg {
  const agg = new RunAgg(RunStats.fromJSON(JSON.parse(String(r.stats))));
  agg.runs = n(r.runs);
  agg.truePositives = n(r.true_positives);
  agg.falsePositives = n(r.false_positives);
  agg.falseNegatives = n(r.false_negatives);
  agg.trueNegatives = n(r.true_negatives);
  return agg;
}

export function callRollupFromDb(r: DbRow): CallRollup {
  const agg = callAggFromDb(r);
  return {
    ...keyOf(r),
    span: String(r.span) as RollupSpan,
    bucket_ms: n(r.bucket_ms),
    requests: agg.requests,
    errors: agg.errors,
    cache_hits: agg.cacheHits,
    input_tokens: agg.inputTokens,
    output_tokens: agg.outputTokens,
    cached_input_tokens: agg.cachedInputTokens,
    total_tokens: agg.totalTokens,
    cost_usd: agg.costUsd,
    cost_known: agg.costKnown,
    latency_p50_us: nOrNull(r.latency_p50_us),
    latency_p90_us: nOrNull(r.latency_p90_us),
    latency_p99_us: nOrNull(r.latency_p99_us),
    latency_max_us: nOrNull(r.latency_max_us),
    latency: agg.latency,
    ttft: agg.ttft,
    tool_calls: agg.toolCalls,
    tool_errors: agg.toolErrors,
    tool_latency: agg.toolLatency,
  };
}

export function runRollupFromDb(r: DbRow): RunRollup {
  const agg = runAggFromDb(r);
  return {
    ...keyOf(r),
    span: String(r.span) as RollupSpan,
    bucket_ms: n(r.bucket_ms),
    outcome: String(r.outcome) as Outcome,
    runs: agg.runs,
    stats: agg.stats,
    true_positives: agg.truePositives,
    false_positives: agg.falsePositives,
    false_negatives: agg.falseNegatives,
    true_negatives: agg.trueNegatives,
  };
}

/** Column values of a call rollup row, in CALL_ROLLUP_COLUMNS order. */
export function callRollupValues(cell: CallCell, agg: CallAgg): SqlValue[] {
  const latency = latencyColumns(agg);
  const k = cell.key;
  const values: SqlValue[] = [
    cell.span,
    cell.bucket_ms,
    k.app_id,
    k.flow_id,
    k.agent,
    k.provider,
    k.model,
    agg.requests,
    agg.errors,
    agg.cacheHits,
    agg.inputTokens,
    agg.outputTokens,
    agg.cachedInputTokens,
    agg.totalTokens,
    agg.costUsd,
    agg.costKnown,
    latency.p50,
    latency.p90,
    latency.p99,
    latency.max,
    agg.latency.count > 0 ? Buffer.from(agg.latency.toBytes()) : null,
    agg.ttft.count > 0 ? Buffer.from(agg.ttft.toBytes()) : null,
    agg.toolCalls,
    agg.toolErrors,
    agg.toolLatency.count > 0 ? Buffer.from(agg.toolLatency.toBytes()) : null,
  ];
  if (values.length !== CALL_ROLLUP_COLUMNS.length) throw new Error('call rollup columns out of step');
  return values;
}

export function runRollupValues(cell: RunCell, agg: RunAgg): SqlValue[] {
  const k = cell.key;
  const values: SqlValue[] = [
    cell.span,
    cell.bucket_ms,
    k.app_id,
    k.flow_id,
    k.agent,
    k.provider,
    k.model,
    cell.outcome,
    agg.runs,
    JSON.stringify(agg.stats.toJSON()),
    agg.truePositives,
    agg.falsePositives,
    agg.falseNegatives,
    agg.trueNegatives,
  ];
  if (values.length !== RUN_ROLLUP_COLUMNS.length) throw new Error('run rollup columns out of step');
  return values;
}

/** Key values of a cell, in key column order (run cells add the outcome). */
export function cellKeyValues(cell: CallCell | RunCell): SqlValue[] {
  const k = cell.key;
  const base: SqlValue[] = [cell.span, cell.bucket_ms, k.app_id, k.flow_id, k.agent, k.provider, k.model];
  return 'outcome' in cell ? [...base, cell.outcome] : base;
}
