import { QuantileSketch, RunStats } from '../stats/index.js';
import type { Outcome } from '../model/index.js';
import type { CallCell, RunCell } from './rollup.js';
import { CallAgg, RunAgg, latencyColumns } from './rollup.js';
import { decodeCursor, pageSize } from './cursor.js';
import type { SqlValue } from './rows.js';
import type { CallQuery, CallRollup, RollupQuery, RollupSpan, RunQuery, RunRollup } from './store.js';
import { CALL_ROLLUP_COLUMNS, RUN_COLUMNS, RUN_KEEP_IF_NULL, RUN_ROLLUP_COLUMNS } from './schema.js';
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

/**
 * What a finished run's upsert sets on the row its start wrote: the end wins, ids only the
 * start knew are kept (RUN_KEEP_IF_NULL); the `key` columns stay. One text for both dialects.
 */
export function runEndAssignments(key: readonly string[]): string {
  const keep = new Set(RUN_KEEP_IF_NULL);
  return RUN_COLUMNS.filter((c) => !key.includes(c.name))
    .map((c) => (keep.has(c.name) ? `${c.name} = COALESCE(excluded.${c.name}, runs.${c.name})` : `${c.name} = excluded.${c.name}`))
    .join(', ');
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

/**
 * `sql` (a slowest-first calls query) restricted to the `prefix` slowest calls of the whole
 * table, read through calls_by_duration. Any call it returns ranks above every call outside
 * the prefix, so when it returns the full limit, those are the query's answer.
 */
export function slowestPrefixQuery(sql: Sql, prefix: number): Sql {
  const from = 'FROM calls ';
  const at = sql.text.indexOf(from);
  const inner = `FROM (SELECT * FROM calls INDEXED BY calls_by_duration ORDER BY duration_ms DESC, run_id ASC, seq ASC LIMIT ${Math.trunc(prefix)}) `;
  return { text: `${sql.text.slice(0, at)}${inner}${sql.text.slice(at + from.length)}`, params: sql.params };
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

function mergeInto(sketch: QuantileSketch, value: unknown): void {
  if (value !== null && value !== undefined) sketch.mergeBytes(value as Uint8Array);
}

const n = (v: unknown): number => (typeof v === 'number' ? v : Number(v));
const nOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : n(v));


export function callAggFromDb(r: DbRow): CallAgg {
  const agg = new CallAgg();
  mergeInto(agg.latency, r.latency_sketch);
  mergeInto(agg.ttft, r.ttft_sketch);
  mergeInto(agg.toolLatency, r.tool_sketch);
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
  const agg = new RunAgg();
  agg.stats.mergeJSON(JSON.parse(String(r.stats)));
  agg.runs = n(r.runs);
  agg.truePositives = n(r.true_positives);
  agg.falsePositives = n(r.false_positives);
  agg.falseNegatives = n(r.false_negatives);
  agg.trueNegatives = n(r.true_negatives);
  return agg;
}

/**
 * What a rollup row read from a database was decoded from. A window that merges thousands
 * of rows adds these bytes straight into its own sketches (`mergeRollupRow`), so a row's
 * sketch objects are only built when someone reads them.
 */
export const ROLLUP_SOURCE: unique symbol = Symbol('flowmeter.rollupSource');

export interface CallRollupSource {
  readonly latency: Uint8Array | null;
  readonly ttft: Uint8Array | null;
  readonly tool: Uint8Array | null;
}

export interface RunRollupSource {
  readonly stats: string;
}

function sketchOf(bytes: Uint8Array | null): QuantileSketch {
  const sketch = new QuantileSketch();
  if (bytes !== null) sketch.mergeBytes(bytes);
  return sketch;
}

const bytesOrNull = (v: unknown): Uint8Array | null => (v === null || v === undefined ? null : (v as Uint8Array));

/** A call rollup row read from a database: its sketches are decoded when first read. */
class StoredCallRollup implements CallRollup {
  readonly app_id: string;
  readonly flow_id: string;
  readonly agent: string;
  readonly provider: string;
  readonly model: string;
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
  readonly cost_known: number;
  readonly latency_p50_us: number | null;
  readonly latency_p90_us: number | null;
  readonly latency_p99_us: number | null;
  readonly latency_max_us: number | null;
  readonly tool_calls: number;
  readonly tool_errors: number;
  readonly [ROLLUP_SOURCE]: CallRollupSource;
  #latency: QuantileSketch | undefined;
  #ttft: QuantileSketch | undefined;
  #tool: QuantileSketch | undefined;

  constructor(r: DbRow) {
    this.app_id = String(r.app_id);
    this.flow_id = String(r.flow_id);
    this.agent = String(r.agent);
    this.provider = String(r.provider);
    this.model = String(r.model);
    this.span = String(r.span) as RollupSpan;
    this.bucket_ms = n(r.bucket_ms);
    this.requests = n(r.requests);
    this.errors = n(r.errors);
    this.cache_hits = n(r.cache_hits);
    this.input_tokens = n(r.input_tokens);
    this.output_tokens = n(r.output_tokens);
    this.cached_input_tokens = n(r.cached_input_tokens);
    this.total_tokens = n(r.total_tokens);
    this.cost_usd = n(r.cost_usd);
    this.cost_known = n(r.cost_known);
    this.latency_p50_us = nOrNull(r.latency_p50_us);
    this.latency_p90_us = nOrNull(r.latency_p90_us);
    this.latency_p99_us = nOrNull(r.latency_p99_us);
    this.latency_max_us = nOrNull(r.latency_max_us);
    this.tool_calls = n(r.tool_calls);
    this.tool_errors = n(r.tool_errors);
    this[ROLLUP_SOURCE] = { latency: bytesOrNull(r.latency_sketch), ttft: bytesOrNull(r.ttft_sketch), tool: bytesOrNull(r.tool_sketch) };
  }

  get latency(): QuantileSketch {
    return (this.#latency ??= sketchOf(this[ROLLUP_SOURCE].latency));
  }

  get ttft(): QuantileSketch {
    return (this.#ttft ??= sketchOf(this[ROLLUP_SOURCE].ttft));
  }

  get tool_latency(): QuantileSketch {
    return (this.#tool ??= sketchOf(this[ROLLUP_SOURCE].tool));
  }
}

/** A run rollup row read from a database: its statistics are decoded when first read. */
class StoredRunRollup implements RunRollup {
  readonly app_id: string;
  readonly flow_id: string;
  readonly agent: string;
  readonly provider: string;
  readonly model: string;
  readonly span: RollupSpan;
  readonly bucket_ms: number;
  readonly outcome: Outcome;
  readonly runs: number;
  readonly true_positives: number;
  readonly false_positives: number;
  readonly false_negatives: number;
  readonly true_negatives: number;
  readonly [ROLLUP_SOURCE]: RunRollupSource;
  #stats: RunStats | undefined;

  constructor(r: DbRow) {
    this.app_id = String(r.app_id);
    this.flow_id = String(r.flow_id);
    this.agent = String(r.agent);
    this.provider = String(r.provider);
    this.model = String(r.model);
    this.span = String(r.span) as RollupSpan;
    this.bucket_ms = n(r.bucket_ms);
    this.outcome = String(r.outcome) as Outcome;
    this.runs = n(r.runs);
    this.true_positives = n(r.true_positives);
    this.false_positives = n(r.false_positives);
    this.false_negatives = n(r.false_negatives);
    this.true_negatives = n(r.true_negatives);
    this[ROLLUP_SOURCE] = { stats: String(r.stats) };
  }

  get stats(): RunStats {
    if (this.#stats === undefined) {
      this.#stats = new RunStats();
      this.#stats.mergeJSON(JSON.parse(this[ROLLUP_SOURCE].stats));
    }
    return this.#stats;
  }
}

export function callRollupFromDb(r: DbRow): CallRollup {
  return new StoredCallRollup(r);
}

export function runRollupFromDb(r: DbRow): RunRollup {
  return new StoredRunRollup(r);
}

/** Adds a call rollup row's sketches to `agg`'s, from the stored bytes when the row came from a database. */
export function mergeCallSketches(agg: CallAgg, row: CallRollup): void {
  const source = (row as unknown as { [ROLLUP_SOURCE]?: CallRollupSource })[ROLLUP_SOURCE];
  if (source === undefined) {
    agg.latency.merge(row.latency);
    agg.ttft.merge(row.ttft);
    agg.toolLatency.merge(row.tool_latency);
    return;
  }
  if (source.latency !== null) agg.latency.mergeBytes(source.latency);
  if (source.ttft !== null) agg.ttft.mergeBytes(source.ttft);
  if (source.tool !== null) agg.toolLatency.mergeBytes(source.tool);
}

/** Adds a run rollup row's statistics to `stats`, from the stored JSON when the row came from a database. */
export function mergeRunStats(stats: RunStats, row: RunRollup): void {
  const source = (row as unknown as { [ROLLUP_SOURCE]?: RunRollupSource })[ROLLUP_SOURCE];
  if (source === undefined) stats.merge(row.stats);
  else stats.mergeJSON(JSON.parse(source.stats));
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
