import pg from 'pg';
import { RollupDelta } from '../rollup.js';
import type { CallCell, RunCell } from '../rollup.js';
import { callFromDb, callValues, pairRuns, retryFromDb, retryValues, runFromDb, runValues, stepFromDb, stepValues } from '../rows.js';
import type { SqlValue } from '../rows.js';
import {
  APP_MARK,
  CALLS,
  CALL_ROLLUPS,
  CALL_ROLLUP_KEY,
  META_TABLE,
  RAW_TABLES,
  RETRIES,
  ROLLUP_TABLES,
  RUNS,
  RUN_ROLLUPS,
  RUN_ROLLUP_KEY,
  SCHEMA_VERSION,
  STEPS,
  createMeta,
  migrations,
} from '../schema.js';
import type { Column, TableSpec } from '../schema.js';
import {
  callAggFromDb,
  callRollupFromDb,
  callRollupValues,
  callsQuery,
  cellKeyValues,
  rollupQueries,
  runAggFromDb,
  runEndAssignments,
  runRollupFromDb,
  runRollupValues,
  runsQuery,
  toDollar,
} from '../sql-queries.js';
import { encodeCursor } from '../cursor.js';
import { copyLine, copyRows } from './copy-text.js';
import { StoreError } from '../store.js';
import type {
  CallQuery,
  CallRow,
  RetentionCutoffs,
  RetentionResult,
  RollupQuery,
  RollupSet,
  RunDetail,
  RunPage,
  RunQuery,
  RunRow,
  Store,
  StoreBatch,
  StoreInfo,
  StoredCall,
  WriteResult,
} from '../store.js';
import { tileWindow } from '../tiles.js';
import { floorTo } from '../rollup.js';
import type { Partition } from './partitions.js';
import { partitionOf, partitionsAhead, rangeOfName } from './partitions.js';

export interface PostgresStoreOptions {
  /** Schema to keep the tables in (created if missing). Default: the URL's `?schema=`, else `public`. */
  readonly schema?: string;
  /** Pool size. Default 4. */
  readonly maxConnections?: number;
  /** How long to wait for a connection. Default 5,000 ms. */
  readonly connectTimeoutMs?: number;
}

const ARRAY_TYPE: Readonly<Record<string, string>> = { text: 'text[]', int: 'bigint[]', real: 'float8[]', bool: 'smallint[]', blob: 'bytea[]' };

function arrayType(column: Column): string {
  return ARRAY_TYPE[column.type.replace('!', '')] ?? 'text[]';
}

/** Batches of at least this many calls go through COPY; smaller ones are one unnest INSERT. */
const COPY_MIN_ROWS = 1_000;
const CALLS_STAGING = 'fm_calls_staging';
const CALL_LINE = copyLine(callValues);
const RUN_LINE = copyLine(runValues);
/** A finished run's upsert: only a row still running is finished (a replayed end changes nothing). */
const RUN_END_CONFLICT = `ON CONFLICT (start_ms, run_id) DO UPDATE SET ${runEndAssignments(['run_id', 'start_ms'])} WHERE runs.status = 'running' RETURNING *`;
/** PostgreSQL's SQLSTATE for a duplicate key. */
const UNIQUE_VIOLATION = '23505';

const names = (columns: readonly Column[]): string => columns.map((c) => c.name).join(', ');

/** `INSERT … SELECT * FROM unnest($1::text[], $2::bigint[], …)`: one statement and one round trip for any number of rows. */
function unnestInsert(table: TableSpec, rows: readonly SqlValue[][], tail: string): { text: string; values: unknown[] } {
  const columns = table.columns;
  const casts = columns.map((c, i) => `$${i + 1}::${arrayType(c)}`).join(', ');
  const values = columns.map((_, i) => rows.map((row) => row[i]));
  return { text: `INSERT INTO ${table.name} (${names(columns)}) SELECT * FROM unnest(${casts}) ${tail}`, values };
}

// Bigint sums and counts come back as numbers, not strings: every one of them is below 2^53.
const parseBigint = (value: string): number => Number(value);
const TYPES = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary'): unknown => {
    if (oid === 20) return parseBigint;
    return format === undefined ? pg.types.getTypeParser(oid) : (pg.types.getTypeParser(oid, format) as unknown);
  }) as typeof pg.types.getTypeParser,
};

function safeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    parsed.searchParams.delete('schema');
    return parsed.toString();
  } catch {
    return 'postgres://(unparseable URL)';
  }
}

function explain(location: string, err: unknown): StoreError {
  if (err instanceof StoreError) return err;
  const e = err as { code?: string; message?: string };
  const message = e.message ?? String(err);
  if (e.code === 'ECONNREFUSED' || e.code === 'ENOTFOUND' || e.code === 'ETIMEDOUT' || e.code === 'ECONNRESET' || /timeout/i.test(message)) {
    return new StoreError(`cannot reach PostgreSQL at ${location} (${message}); is the server running?`);
  }
  if (e.code === '3D000') return new StoreError(`PostgreSQL at ${location}: ${message}; create the database first`);
  if (e.code === '28P01' || e.code === '28000') return new StoreError(`PostgreSQL at ${location} refused the login (${message})`);
  return new StoreError(`PostgreSQL at ${location}: ${message}`);
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * The store on PostgreSQL 15 (no extensions): raw tables partitioned by day, rollups by
 * month, partitions created ahead, retention by dropping whole partitions. Any number of
 * processes may write at once: runs and calls are keyed, and rollup rows are merged under
 * row locks taken in one order.
 */
export class PostgresStore implements Store {
  readonly kind = 'postgres' as const;
  readonly location: string;
  readonly #pool: pg.Pool;
  readonly #schema: string;
  readonly #partitions = new Set<string>();
  #closed = false;
  /** Idle connections that failed (server restarted, network gone); the next query reconnects. */
  connectionErrors = 0;

  private constructor(location: string, pool: pg.Pool, schema: string) {
    this.location = location;
    this.#pool = pool;
    this.#schema = schema;
    pool.on('error', () => {
      // An idle client lost its connection. Without this handler the pool would crash the process.
      this.connectionErrors++;
    });
  }

  /** Connects, checks the database is flowmeter's (or empty), migrates it and creates partitions ahead. */
  static async open(url: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const location = safeUrl(url);
    let schema = options.schema;
    let connectionString = url;
    try {
      const parsed = new URL(url);
      schema ??= parsed.searchParams.get('schema') ?? undefined;
      parsed.searchParams.delete('schema');
      connectionString = parsed.toString();
    } catch {
      throw new StoreError(`${location}: not a postgres:// URL`);
    }
    const schemaName = schema ?? 'public';
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(schemaName)) throw new StoreError(`schema "${schemaName}" must be a plain identifier`);
    const pool = new pg.Pool({
      connectionString,
      max: options.maxConnections ?? 4,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
      options: `-c search_path=${schemaName}`,
      types: TYPES,
    });
    const store = new PostgresStore(location, pool, schemaName);
    try {
      await store.#migrate();
      await store.#ensurePartitions(RAW_TABLES.concat(ROLLUP_TABLES).flatMap((t) => partitionsAhead(t, Date.now())));
      return store;
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw explain(location, err);
    }
  }

  async #migrate(): Promise<void> {
    const client = await this.#pool.connect();
    try {
      await client.query('BEGIN');
      // One migrator at a time across processes; the others find the work done. The schema
      // is made under the lock too: two CREATE SCHEMA IF NOT EXISTS at once can both miss it
      // and one then fails on pg_namespace's unique index.
      await client.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`flowmeter.migrate.${this.#schema}`]);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(this.#schema)}`);
      const tables = await client.query<{ table_name: string }>(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1`, [this.#schema]);
      const names = tables.rows.map((r) => r.table_name);
      const hasMeta = names.includes(META_TABLE);
      if (!hasMeta && names.length > 0) throw new StoreError(`${this.location} (schema ${this.#schema}) is not a flowmeter database (it holds other tables: ${names.slice(0, 3).join(', ')})`);
      let version = 0;
      if (hasMeta) {
        const meta = await client.query<{ key: string; value: string }>(`SELECT key, value FROM ${META_TABLE}`);
        const get = (key: string): string | undefined => meta.rows.find((r) => r.key === key)?.value;
        if (get('app') !== APP_MARK) throw new StoreError(`${this.location} (schema ${this.#schema}) is not a flowmeter database (its ${META_TABLE} table is not ours)`);
        version = Number(get('schema_version') ?? 0);
      }
      if (version > SCHEMA_VERSION) {
        throw new StoreError(`${this.location} was written by a newer flowmeter (schema version ${version}; this one reads up to ${SCHEMA_VERSION}); upgrade flowmeter to read it`);
      }
      if (version === 0) {
        await client.query(createMeta());
        await client.query(`INSERT INTO ${META_TABLE} (key, value) VALUES ('app', $1) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`, [APP_MARK]);
      }
      const steps = migrations('postgres');
      for (let target = version + 1; target <= SCHEMA_VERSION; target++) {
        for (const sql of steps[target - 1] ?? []) await client.query(sql);
        await client.query(`INSERT INTO ${META_TABLE} (key, value) VALUES ('schema_version', $1) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`, [String(target)]);
      }
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  /** Creates the partitions that do not exist yet (known ones are remembered, so this is cheap per write). */
  async #ensurePartitions(wanted: readonly Partition[]): Promise<void> {
    const missing = new Map<string, Partition>();
    for (const p of wanted) if (!this.#partitions.has(p.name)) missing.set(p.name, p);
    if (missing.size === 0) return;
    const client = await this.#pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`flowmeter.partitions.${this.#schema}`]);
      for (const p of missing.values()) {
        await client.query(`CREATE TABLE IF NOT EXISTS ${p.name} PARTITION OF ${p.table} FOR VALUES FROM (${p.from}) TO (${p.to})`);
      }
      await client.query('COMMIT');
      for (const name of missing.keys()) this.#partitions.add(name);
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  #partitionsFor(batch: StoreBatch): Partition[] {
    const out: Partition[] = [];
    const seen = new Set<string>();
    const add = (table: TableSpec, ms: number): void => {
      const p = partitionOf(table, ms);
      if (!seen.has(p.name)) {
        seen.add(p.name);
        out.push(p);
      }
    };
    for (const r of batch.runStarts) add(RUNS, r.start_ms);
    for (const r of batch.runEnds) {
      add(RUNS, r.start_ms);
      if (r.end_ms !== null) {
        add(RUN_ROLLUPS, floorTo(r.end_ms, '1d'));
        add(RUN_ROLLUPS, r.end_ms);
      }
    }
    for (const r of batch.steps) add(STEPS, r.end_ms);
    for (const r of batch.calls) {
      add(CALLS, r.end_ms);
      add(CALL_ROLLUPS, floorTo(r.end_ms, '1d'));
    }
    for (const r of batch.retries) add(RETRIES, r.at_ms);
    if (batch.sampled !== null) for (const cell of batch.sampled.callCells()) add(CALL_ROLLUPS, cell.bucket_ms);
    return out;
  }

  async write(batch: StoreBatch): Promise<WriteResult> {
    if (this.#closed) throw new StoreError(`${this.location}: the store is closed`);
    try {
      await this.#ensurePartitions(this.#partitionsFor(batch));
      const client = await this.#pool.connect();
      try {
        await client.query('BEGIN');
        const result = await this.#apply(client, batch);
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    } catch (err) {
      throw explain(this.location, err);
    }
  }

  async #apply(client: pg.PoolClient, batch: StoreBatch): Promise<WriteResult> {
    const delta = new RollupDelta();
    let duplicates = 0;
    const runs = pairRuns(batch.runStarts, batch.runEnds);
    duplicates += runs.repeatedStarts;
    let runsStarted = 0;
    if (runs.starts.length > 0) {
      const q = unnestInsert(RUNS, runs.starts.map(runValues), 'ON CONFLICT (start_ms, run_id) DO NOTHING');
      runsStarted = (await client.query(q.text, q.values)).rowCount ?? 0;
      duplicates += runs.starts.length - runsStarted;
    }
    let runsFinished = 0;
    if (runs.ends.length > 0) {
      // One statement may not update a row twice: a run finished twice in one batch counts once.
      let ends = uniqueBy(runs.ends, (e) => e.row.run_id);
      const whole = ends.filter((e) => e.whole).map((e) => e.row);
      const wholeIds = new Set(whole.map((r) => r.run_id));
      let wholeWritten = 0;
      // The usual large batch: runs that started and ended in it, none stored yet.
      if (whole.length >= COPY_MIN_ROWS && (await copyNew(client, RUNS.name, names(RUNS.columns), whole, RUN_LINE))) {
        for (const row of whole) delta.addRun(row);
        wholeWritten = whole.length;
        runsFinished = whole.length;
        ends = ends.filter((e) => !e.whole);
      }
      if (ends.length > 0) {
        const q = unnestInsert(RUNS, ends.map((e) => runValues(e.row)), RUN_END_CONFLICT);
        const rows = (await client.query<Record<string, unknown>>(q.text, q.values)).rows;
        for (const row of rows) {
          const run = runFromDb(row);
          delta.addRun(run);
          if (wholeIds.has(run.run_id)) wholeWritten++;
        }
        runsFinished += rows.length;
      }
      runsStarted += wholeWritten;
      // A whole row not written stands for a start and an end already stored.
      duplicates += runs.ends.length - runsFinished + (whole.length - wholeWritten);
    }
    let steps = 0;
    if (batch.steps.length > 0) {
      const q = unnestInsert(STEPS, batch.steps.map(stepValues), 'ON CONFLICT DO NOTHING');
      steps = (await client.query(q.text, q.values)).rowCount ?? 0;
      duplicates += batch.steps.length - steps;
    }
    let calls = 0;
    if (batch.calls.length > 0) {
      const inserted = await this.#insertCalls(client, batch.calls);
      calls = inserted.length;
      duplicates += batch.calls.length - calls;
      for (const row of inserted) delta.addCall(row);
    }
    let retries = 0;
    if (batch.retries.length > 0) {
      const q = unnestInsert(RETRIES, batch.retries.map(retryValues), 'ON CONFLICT DO NOTHING');
      retries = (await client.query(q.text, q.values)).rowCount ?? 0;
      duplicates += batch.retries.length - retries;
    }
    if (batch.sampled !== null) delta.merge(batch.sampled);
    await this.#mergeCells(client, CALL_ROLLUPS, CALL_ROLLUP_KEY, delta.callCells(), callAggFromDb, callRollupValues);
    await this.#mergeCells(client, RUN_ROLLUPS, RUN_ROLLUP_KEY, delta.runCells(), runAggFromDb, runRollupValues);
    return { runsStarted, runsFinished, calls, steps, retries, duplicates };
  }

  /**
   * Inserts call rows, skipping those already stored, and returns the rows it inserted.
   * A large batch is streamed with COPY straight into the calls table; when it replays
   * stored calls (a retried write) it goes through a staging table and one
   * INSERT … SELECT … ON CONFLICT DO NOTHING instead.
   */
  async #insertCalls(client: pg.PoolClient, calls: readonly CallRow[]): Promise<readonly CallRow[]> {
    const conflict = 'ON CONFLICT DO NOTHING RETURNING run_id, seq';
    let keys: { run_id: string; seq: number }[];
    if (calls.length < COPY_MIN_ROWS) {
      const q = unnestInsert(CALLS, calls.map(callValues), conflict);
      keys = (await client.query<{ run_id: string; seq: number }>(q.text, q.values)).rows;
    } else {
      const columns = names(CALLS.columns);
      if (await copyNew(client, CALLS.name, columns, calls, CALL_LINE)) return calls;
      // ON COMMIT DELETE ROWS: the staging table is empty at the start of every transaction.
      await client.query(`CREATE TEMP TABLE IF NOT EXISTS ${CALLS_STAGING} (LIKE ${CALLS.name}) ON COMMIT DELETE ROWS`);
      await copyRows(client, CALLS_STAGING, columns, calls, CALL_LINE);
      keys = (await client.query<{ run_id: string; seq: number }>(`INSERT INTO ${CALLS.name} (${columns}) SELECT ${columns} FROM ${CALLS_STAGING} ${conflict}`)).rows;
    }
    if (keys.length === calls.length) return calls;
    const byKey = new Map<string, CallRow>(calls.map((c) => [`${c.run_id}\u0000${c.seq}`, c]));
    return keys.flatMap((k) => byKey.get(`${k.run_id}\u0000${k.seq}`) ?? []);
  }

  /**
   * Cells that exist are locked (in key order), merged in memory — sketches cannot be added
   * in SQL — and written back; the others are inserted whole, all in the caller's
   * transaction. Locking first means each cell's sketches are encoded once: a batch mostly
   * lands in cells an earlier batch made (the same minute, hour and day).
   */
  async #mergeCells<C extends CallCell | RunCell, A extends { merge(other: A): void }>(
    client: pg.PoolClient,
    table: TableSpec,
    key: readonly string[],
    cells: readonly C[],
    fromDb: (row: Record<string, unknown>) => A,
    values: (cell: C, agg: A) => SqlValue[],
  ): Promise<void> {
    const aggOf = (cell: C): A => cell.agg as unknown as A;
    const keyText = (vals: readonly unknown[]): string => vals.map(String).join('\u0000');
    const keyColumns = table.columns.filter((c) => key.includes(c.name));
    const keyCasts = keyColumns.map((c, i) => `$${i + 1}::${arrayType(c)}`).join(', ');
    const columns = table.columns;
    const casts = columns.map((c, i) => `$${i + 1}::${arrayType(c)}`).join(', ');
    const assign = columns.filter((c) => !key.includes(c.name)).map((c) => `${c.name} = u.${c.name}`).join(', ');
    const match = key.map((k) => `t.${k} = u.${k}`).join(' AND ');
    let left = cells;
    // A cell another writer inserts between the lock and the insert is locked and merged on the next pass.
    for (let pass = 0; left.length > 0; pass++) {
      if (pass > 8) throw new StoreError(`${this.location}: rollup cells kept appearing under a concurrent writer; the write is retried`);
      const keyArrays = keyColumns.map((_, i) => left.map((c) => cellKeyValues(c)[i]));
      const locked = await client.query<Record<string, unknown>>(
        `SELECT * FROM ${table.name} WHERE (${key.join(', ')}) IN (SELECT * FROM unnest(${keyCasts})) ORDER BY ${key.join(', ')} FOR UPDATE`,
        keyArrays,
      );
      const existing = new Map(locked.rows.map((r) => [keyText(key.map((k) => r[k])), r]));
      const merged: SqlValue[][] = [];
      const fresh: C[] = [];
      for (const cell of left) {
        const row = existing.get(keyText(cellKeyValues(cell)));
        if (row === undefined) {
          fresh.push(cell);
          continue;
        }
        const agg = fromDb(row);
        agg.merge(aggOf(cell));
        merged.push(values(cell, agg));
      }
      if (merged.length > 0) {
        await client.query(
          `UPDATE ${table.name} AS t SET ${assign} FROM unnest(${casts}) AS u(${names(columns)}) WHERE ${match}`,
          columns.map((_, i) => merged.map((row) => row[i])),
        );
      }
      if (fresh.length === 0) return;
      const insert = unnestInsert(table, fresh.map((c) => values(c, aggOf(c))), `ON CONFLICT DO NOTHING RETURNING ${key.join(', ')}`);
      const inserted = new Set((await client.query<Record<string, unknown>>(insert.text, insert.values)).rows.map((r) => keyText(key.map((k) => r[k]))));
      left = fresh.filter((c) => !inserted.has(keyText(cellKeyValues(c))));
    }
  }

  async #query(text: string, params: readonly unknown[]): Promise<Record<string, unknown>[]> {
    if (this.#closed) throw new StoreError(`${this.location}: the store is closed`);
    try {
      return (await this.#pool.query<Record<string, unknown>>(toDollar(text), params as unknown[])).rows;
    } catch (err) {
      throw explain(this.location, err);
    }
  }

  async runs(query: RunQuery = {}): Promise<RunPage> {
    const { sql, limit } = runsQuery(query);
    const rows = (await this.#query(sql.text, sql.params)).map(runFromDb);
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return { runs: page, next_cursor: rows.length > limit && last !== undefined ? encodeCursor({ startMs: last.start_ms, runId: last.run_id }) : null };
  }

  async run(runId: string): Promise<RunDetail | null> {
    const found = await this.#query('SELECT * FROM runs WHERE run_id = ?', [runId]);
    const first = found[0];
    if (first === undefined) return null;
    const [steps, calls, retries, children] = await Promise.all([
      this.#query('SELECT * FROM steps WHERE run_id = ? ORDER BY start_ms, step_id', [runId]),
      this.#query('SELECT * FROM calls WHERE run_id = ? ORDER BY seq', [runId]),
      this.#query('SELECT * FROM retries WHERE run_id = ? ORDER BY seq', [runId]),
      this.#query('SELECT * FROM runs WHERE parent_run_id = ? ORDER BY start_ms, run_id', [runId]),
    ]);
    return { run: runFromDb(first), steps: steps.map(stepFromDb), calls: calls.map(callFromDb), retries: retries.map(retryFromDb), children: children.map(runFromDb) };
  }

  async calls(query: CallQuery): Promise<StoredCall[]> {
    const sql = callsQuery(query);
    return (await this.#query(sql.text, sql.params)).map(callFromDb);
  }

  async rollups(query: RollupQuery): Promise<RollupSet> {
    const sql = rollupQueries(query, tileWindow(query.since, query.until, query.span));
    if (sql === null) return { calls: [], runs: [] };
    const [calls, runs] = await Promise.all([this.#query(sql.calls.text, sql.calls.params), this.#query(sql.runs.text, sql.runs.params)]);
    return { calls: calls.map(callRollupFromDb), runs: runs.map(runRollupFromDb) };
  }

  /**
   * Drops every partition wholly before the cutoff (instant, no vacuum debt) and deletes
   * the expired rows of the one partition the cutoff falls in.
   */
  async retain(policy: RetentionCutoffs): Promise<RetentionResult> {
    let runs = 0;
    let calls = 0;
    let rollups = 0;
    if (policy.rawBefore !== undefined) {
      for (const table of RAW_TABLES) {
        const n = await this.#expire(table, policy.rawBefore);
        if (table === RUNS) runs = n;
        if (table === CALLS) calls = n;
      }
    }
    if (policy.rollupsBefore !== undefined) {
      for (const table of ROLLUP_TABLES) rollups += await this.#expire(table, policy.rollupsBefore);
    }
    return { runs, calls, rollups };
  }

  async #expire(table: TableSpec, before: number): Promise<number> {
    const parts = await this.#query(
      `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
       JOIN pg_namespace n ON n.oid = p.relnamespace WHERE p.relname = ? AND n.nspname = ?`,
      [table.name, this.#schema],
    );
    let removed = 0;
    for (const { name } of parts) {
      const range = rangeOfName(table, String(name));
      if (range === null) continue;
      if (range.to <= before) {
        const count = await this.#query(`SELECT count(*) AS n FROM ${String(name)}`, []);
        removed += Number(count[0]?.n ?? 0);
        await this.#query(`DROP TABLE IF EXISTS ${String(name)}`, []);
        this.#partitions.delete(String(name));
      } else if (range.from < before) {
        const deleted = await this.#query(`DELETE FROM ${String(name)} WHERE ${table.timeColumn} < ? RETURNING 1`, [before]);
        removed += deleted.length;
      }
    }
    return removed;
  }

  async info(): Promise<StoreInfo> {
    const counts = await this.#query(
      `SELECT (SELECT count(*) FROM runs) AS runs, (SELECT count(*) FROM calls) AS calls, (SELECT count(*) FROM steps) AS steps,
              (SELECT count(*) FROM retries) AS retries, (SELECT count(*) FROM call_rollups) AS call_rollups,
              (SELECT count(*) FROM run_rollups) AS run_rollups, (SELECT value FROM ${META_TABLE} WHERE key = 'schema_version') AS version`,
      [],
    );
    const c = counts[0] ?? {};
    return {
      kind: this.kind,
      location: this.location,
      schema_version: Number(c.version ?? 0),
      runs: Number(c.runs),
      calls: Number(c.calls),
      steps: Number(c.steps),
      retries: Number(c.retries),
      call_rollups: Number(c.call_rollups),
      run_rollups: Number(c.run_rollups),
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.end();
  }
}

/**
 * COPYs rows that are all new into `table` and says whether it did. COPY cannot skip rows
 * that exist: when one does, the COPY is rolled back to a savepoint and nothing is written.
 */
async function copyNew<T>(client: pg.PoolClient, table: string, columns: string, rows: readonly T[], line: (row: T) => string): Promise<boolean> {
  await client.query('SAVEPOINT fm_copy');
  try {
    await copyRows(client, table, columns, rows, line);
    await client.query('RELEASE SAVEPOINT fm_copy');
    return true;
  } catch (err) {
    if ((err as { code?: unknown }).code !== UNIQUE_VIOLATION) throw err;
    await client.query('ROLLBACK TO SAVEPOINT fm_copy');
    return false;
  }
}

function uniqueBy<T>(rows: readonly T[], key: (row: T) => string): T[] {
  const seen = new Set<string>();
  return rows.filter((row) => {
    const k = key(row);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

export type { RunRow };
