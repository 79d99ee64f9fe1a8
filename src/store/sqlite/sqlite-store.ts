import { makeDirs } from '../../sinks/make-dirs.js';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { CallAgg, RollupDelta, RunAgg } from '../rollup.js';
import type { CallCell, RunCell } from '../rollup.js';
import { callFromDb, callValues, mergeRunRows, pairRuns, retryFromDb, retryValues, runFromDb, runValues, stepFromDb, stepValues } from '../rows.js';
import type { SqlValue } from '../rows.js';
import {
  APP_MARK,
  CALL_COLUMNS,
  CALL_ROLLUP_COLUMNS,
  CALL_ROLLUP_KEY,
  META_TABLE,
  RETRY_COLUMNS,
  RUN_COLUMNS,
  RUN_ROLLUP_COLUMNS,
  RUN_ROLLUP_KEY,
  SCHEMA_VERSION,
  STEP_COLUMNS,
  createMeta,
  migrations,
} from '../schema.js';
import type { Column } from '../schema.js';
import {
  callAggFromDb,
  callRollupFromDb,
  callRollupValues,
  callsQuery,
  cellKeyValues,
  runAggFromDb,
  runEndAssignments,
  runRollupFromDb,
  runRollupValues,
  runsQuery,
} from '../sql-queries.js';
import { encodeCursor } from '../cursor.js';
import { StoreError } from '../store.js';
import type {
  CallQuery,
  RetentionCutoffs,
  RetentionResult,
  RollupQuery,
  RollupSet,
  RunDetail,
  RunPage,
  RunQuery,
  Store,
  StoreBatch,
  StoreInfo,
  StoredCall,
  WriteResult,
} from '../store.js';
import { tileWindow } from '../tiles.js';
import { rollupQueries, slowestPrefixQuery } from '../sql-queries.js';

export interface SqliteStoreOptions {
  /** How long a writer waits for another process's transaction (SQLite `busy_timeout`). Default 5,000 ms. */
  readonly busyTimeoutMs?: number;
  /** Open without writing: no migrations, no file created. */
  readonly readonly?: boolean;
}

// Positional values are bound from one array, which saves spreading 27 arguments per row.
type Statement = BetterSqlite3.Statement<[SqlValue[]]>;

const placeholders = (columns: readonly Column[]): string => columns.map(() => '?').join(', ');
const names = (columns: readonly Column[]): string => columns.map((c) => c.name).join(', ');

/** Rollup cells kept decoded between writes at most. */
const MAX_CACHED_CELLS = 20_000;

function cellId(cell: CallCell | RunCell): string {
  const k = cell.key;
  return `${cell.span}\u0000${cell.bucket_ms}\u0000${k.app_id}\u0000${k.flow_id}\u0000${k.agent}\u0000${k.provider}\u0000${k.model}`;
}

/** Rows deleted per statement by retention, so a writer never waits long for the lock. */
const RETENTION_CHUNK = 2_000;

function loadDriver(): typeof BetterSqlite3 {
  try {
    return createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3;
  } catch (err) {
    throw new StoreError(`the SQLite driver (better-sqlite3) could not be loaded: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  }
}

/** A SQLite error as one line that names the file and what to do. */
function explain(path: string, err: unknown): StoreError {
  if (err instanceof StoreError) return err;
  const code = (err as { code?: unknown }).code;
  const message = err instanceof Error ? err.message : String(err);
  if (code === 'SQLITE_NOTADB') return new StoreError(`${path} is not a flowmeter database (not a SQLite file)`);
  if (code === 'SQLITE_CORRUPT') return new StoreError(`${path} is corrupt (${message}); restore it from a backup or move it away`);
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') return new StoreError(`${path} is locked by another process (${message})`);
  if (code === 'SQLITE_READONLY' || code === 'SQLITE_CANTOPEN' || code === 'SQLITE_PERM') return new StoreError(`${path} cannot be opened for writing (${message})`);
  return new StoreError(`${path}: ${message}`);
}

/** How many of the table's slowest calls a slowest-first query reads before it sorts its window instead. */
const SLOWEST_PREFIX_ROWS = 5_000;

/**
 * The embedded store: one SQLite file in WAL mode, written by any number of processes
 * (each transaction takes the write lock up front and waits `busy_timeout` for it).
 */
export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  readonly location: string;
  readonly #db: BetterSqlite3.Database;
  readonly #stmt: {
    runStart: Statement;
    runEnd: Statement;
    runById: Statement;
    step: Statement;
    call: Statement;
    retry: Statement;
    callRollupGet: Statement;
    callRollupPut: Statement;
    runRollupGet: Statement;
    runRollupPut: Statement;
  };
  readonly #writeBatch: (batch: StoreBatch) => WriteResult;
  #closed = false;
  /**
   * Rollup cells as this connection last wrote them. Valid while no other connection has
   * committed (SQLite's `data_version` is unchanged), which saves decoding every sketch of
   * every touched cell on each write; cleared otherwise, and after a failed write.
   */
  readonly #cells = new Map<string, CallAgg | RunAgg>();
  #dataVersion = -1;

  private constructor(path: string, db: BetterSqlite3.Database) {
    this.location = path;
    this.#db = db;
    const prepare = (sql: string): Statement => db.prepare<[SqlValue[]]>(sql);
    const keyWhere = (key: readonly string[]): string => key.map((k) => `${k} = ?`).join(' AND ');
    this.#stmt = {
      runStart: prepare(`INSERT INTO runs (${names(RUN_COLUMNS)}) VALUES (${placeholders(RUN_COLUMNS)}) ON CONFLICT (run_id) DO NOTHING`),
      runEnd: prepare(
        `INSERT INTO runs (${names(RUN_COLUMNS)}) VALUES (${placeholders(RUN_COLUMNS)}) ON CONFLICT (run_id) DO UPDATE SET ${runEndAssignments(['run_id'])} WHERE runs.status = 'running'`,
      ),
      runById: prepare('SELECT * FROM runs WHERE run_id = ?'),
      step: prepare(`INSERT INTO steps (${names(STEP_COLUMNS)}) VALUES (${placeholders(STEP_COLUMNS)}) ON CONFLICT DO NOTHING`),
      call: prepare(`INSERT INTO calls (${names(CALL_COLUMNS)}) VALUES (${placeholders(CALL_COLUMNS)}) ON CONFLICT DO NOTHING`),
      retry: prepare(`INSERT INTO retries (${names(RETRY_COLUMNS)}) VALUES (${placeholders(RETRY_COLUMNS)}) ON CONFLICT DO NOTHING`),
      callRollupGet: prepare(`SELECT * FROM call_rollups WHERE ${keyWhere(CALL_ROLLUP_KEY)}`),
      callRollupPut: prepare(`INSERT OR REPLACE INTO call_rollups (${names(CALL_ROLLUP_COLUMNS)}) VALUES (${placeholders(CALL_ROLLUP_COLUMNS)})`),
      runRollupGet: prepare(`SELECT * FROM run_rollups WHERE ${keyWhere(RUN_ROLLUP_KEY)}`),
      runRollupPut: prepare(`INSERT OR REPLACE INTO run_rollups (${names(RUN_ROLLUP_COLUMNS)}) VALUES (${placeholders(RUN_ROLLUP_COLUMNS)})`),
    };
    const tx = db.transaction((batch: StoreBatch) => this.#apply(batch));
    // IMMEDIATE takes the write lock at BEGIN, so two processes never both read then fail to upgrade.
    this.#writeBatch = (batch) => {
      try {
        return tx.immediate(batch);
      } catch (err) {
        // The cached cells were merged with a batch that was rolled back.
        this.#cells.clear();
        throw err;
      }
    };
  }

  /** Opens (creating and migrating as needed) the database at `path`. Throws StoreError with one clear line. */
  static open(path: string, options: SqliteStoreOptions = {}): SqliteStore {
    const Driver = loadDriver();
    let db: BetterSqlite3.Database | undefined;
    try {
      // One level at a time (makeDirs): Node's recursive mkdir never returns under /proc.
      if (options.readonly !== true && path !== ':memory:') makeDirs(dirname(path));
      db = new Driver(path, { readonly: options.readonly === true, fileMustExist: options.readonly === true, timeout: options.busyTimeoutMs ?? 5_000 });
      db.pragma(`busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 5_000)}`);
      if (options.readonly !== true) {
        db.pragma('journal_mode = WAL');
        // WAL with NORMAL: a committed transaction survives a process crash; only an OS crash may lose the last ones.
        db.pragma('synchronous = NORMAL');
      }
      migrate(db, path, options.readonly === true);
      return new SqliteStore(path, db);
    } catch (err) {
      try {
        db?.close();
      } catch {
        // Closing a handle that failed to open has nothing left to report.
      }
      throw explain(path, err);
    }
  }

  write(batch: StoreBatch): Promise<WriteResult> {
    try {
      return Promise.resolve(this.#writeBatch(batch));
    } catch (err) {
      return Promise.reject(explain(this.location, err));
    }
  }

  #apply(batch: StoreBatch): WriteResult {
    const s = this.#stmt;
    const delta = new RollupDelta();
    let runsStarted = 0;
    let runsFinished = 0;
    let calls = 0;
    let steps = 0;
    let retries = 0;
    let duplicates = 0;
    const runs = pairRuns(batch.runStarts, batch.runEnds);
    duplicates += runs.repeatedStarts;
    for (const row of runs.starts) {
      if (s.runStart.run(runValues(row)).changes === 1) runsStarted++;
      else duplicates++;
    }
    for (const { row, whole } of runs.ends) {
      if (s.runEnd.run(runValues(row)).changes === 1) {
        runsFinished++;
        if (whole) runsStarted++;
        // Rollups key runs by app id; only a run that finished without one needs its start row.
        const stored = row.app_id === null && !whole ? (s.runById.get([row.run_id]) as Record<string, unknown> | undefined) : undefined;
        delta.addRun(stored === undefined ? row : mergeRunRows(runFromDb(stored), row));
      } else duplicates += whole ? 2 : 1;
    }
    for (const row of batch.steps) {
      if (s.step.run(stepValues(row)).changes === 1) steps++;
      else duplicates++;
    }
    for (const row of batch.calls) {
      if (s.call.run(callValues(row)).changes === 1) {
        calls++;
        delta.addCall(row);
      } else duplicates++;
    }
    for (const row of batch.retries) {
      if (s.retry.run(retryValues(row)).changes === 1) retries++;
      else duplicates++;
    }
    if (batch.sampled !== null) delta.merge(batch.sampled);
    const version = (this.#db.pragma('data_version', { simple: true }) as number) ?? -1;
    if (version !== this.#dataVersion || this.#cells.size > MAX_CACHED_CELLS) this.#cells.clear();
    this.#dataVersion = version;
    for (const cell of delta.callCells()) {
      const id = cellId(cell);
      let agg = this.#cells.get(id) as CallAgg | undefined;
      if (agg === undefined) {
        const existing = s.callRollupGet.get(cellKeyValues(cell)) as Record<string, unknown> | undefined;
        agg = existing === undefined ? new CallAgg() : callAggFromDb(existing);
      }
      agg.merge(cell.agg);
      s.callRollupPut.run(callRollupValues(cell, agg));
      this.#cells.set(id, agg);
    }
    for (const cell of delta.runCells()) {
      const id = `${cellId(cell)}\u0000${cell.outcome}`;
      let agg = this.#cells.get(id) as RunAgg | undefined;
      if (agg === undefined) {
        const existing = s.runRollupGet.get(cellKeyValues(cell)) as Record<string, unknown> | undefined;
        agg = existing === undefined ? new RunAgg() : runAggFromDb(existing);
      }
      agg.merge(cell.agg);
      s.runRollupPut.run(runRollupValues(cell, agg));
      this.#cells.set(id, agg);
    }
    return { runsStarted, runsFinished, calls, steps, retries, duplicates };
  }

  runs(query: RunQuery = {}): Promise<RunPage> {
    return this.#read(() => {
      const { sql, limit } = runsQuery(query);
      const rows = (this.#db.prepare<SqlValue[]>(sql.text).all(...sql.params) as Record<string, unknown>[]).map(runFromDb);
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return { runs: page, next_cursor: rows.length > limit && last !== undefined ? encodeCursor({ startMs: last.start_ms, runId: last.run_id }) : null };
    });
  }

  run(runId: string): Promise<RunDetail | null> {
    return this.#read(() => {
      const row = this.#stmt.runById.get([runId]) as Record<string, unknown> | undefined;
      if (row === undefined) return null;
      const all = (sql: string): Record<string, unknown>[] => this.#db.prepare<SqlValue[]>(sql).all(runId) as Record<string, unknown>[];
      return {
        run: runFromDb(row),
        steps: all('SELECT * FROM steps WHERE run_id = ? ORDER BY start_ms, step_id').map(stepFromDb),
        calls: all('SELECT * FROM calls WHERE run_id = ? ORDER BY seq').map(callFromDb),
        retries: all('SELECT * FROM retries WHERE run_id = ? ORDER BY seq').map(retryFromDb),
        children: all('SELECT * FROM runs WHERE parent_run_id = ? ORDER BY start_ms, run_id').map(runFromDb),
      };
    });
  }

  calls(query: CallQuery): Promise<StoredCall[]> {
    return this.#read(() => {
      const all = (sql: { text: string; params: SqlValue[] }): Record<string, unknown>[] =>
        this.#db.prepare<SqlValue[]>(sql.text).all(...sql.params) as Record<string, unknown>[];
      const sql = callsQuery(query);
      if (query.order !== 'newest') {
        // The slowest calls of a long window: the globally slowest calls are read first (a
        // bounded walk of calls_by_duration) and filtered; when enough of them fall in the
        // window they are its slowest. Otherwise the window is small: sort it.
        const limit = sql.params[sql.params.length - 1] as number;
        const prefix = all(slowestPrefixQuery(sql, SLOWEST_PREFIX_ROWS));
        if (prefix.length >= limit) return prefix.map(callFromDb);
      }
      return all(sql).map(callFromDb);
    });
  }

  rollups(query: RollupQuery): Promise<RollupSet> {
    return this.#read(() => {
      const sql = rollupQueries(query, tileWindow(query.since, query.until, query.span));
      if (sql === null) return { calls: [], runs: [] };
      const calls = (this.#db.prepare<SqlValue[]>(sql.calls.text).all(...sql.calls.params) as Record<string, unknown>[]).map(callRollupFromDb);
      const runs = (this.#db.prepare<SqlValue[]>(sql.runs.text).all(...sql.runs.params) as Record<string, unknown>[]).map(runRollupFromDb);
      return { calls, runs };
    });
  }

  /** Deletes in chunks, yielding between them, so writers in this and other processes keep going. */
  async retain(policy: RetentionCutoffs): Promise<RetentionResult> {
    this.#cells.clear();
    const chunked = async (table: string, column: string, before: number): Promise<number> => {
      const stmt = this.#db.prepare<SqlValue[]>(`DELETE FROM ${table} WHERE rowid IN (SELECT rowid FROM ${table} WHERE ${column} < ? LIMIT ${RETENTION_CHUNK})`);
      let total = 0;
      for (;;) {
        if (this.#closed) return total;
        const { changes } = stmt.run(before);
        total += changes;
        if (changes < RETENTION_CHUNK) return total;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    };
    try {
      let runs = 0;
      let calls = 0;
      let rollups = 0;
      if (policy.rawBefore !== undefined) {
        calls = await chunked('calls', 'end_ms', policy.rawBefore);
        await chunked('steps', 'end_ms', policy.rawBefore);
        await chunked('retries', 'at_ms', policy.rawBefore);
        runs = await chunked('runs', 'start_ms', policy.rawBefore);
      }
      if (policy.rollupsBefore !== undefined) {
        rollups = (await chunked('call_rollups', 'bucket_ms', policy.rollupsBefore)) + (await chunked('run_rollups', 'bucket_ms', policy.rollupsBefore));
      }
      return { runs, calls, rollups };
    } catch (err) {
      throw explain(this.location, err);
    } finally {
      this.#cells.clear();
    }
  }

  info(): Promise<StoreInfo> {
    return this.#read(() => {
      const count = (table: string): number => (this.#db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
      return {
        kind: this.kind,
        location: this.location,
        schema_version: readVersion(this.#db) ?? 0,
        runs: count('runs'),
        calls: count('calls'),
        steps: count('steps'),
        retries: count('retries'),
        call_rollups: count('call_rollups'),
        run_rollups: count('run_rollups'),
      };
    });
  }

  /** `PRAGMA integrity_check`: 'ok' for a sound file. */
  integrityCheck(): string {
    const rows = this.#db.pragma('integrity_check') as { integrity_check: string }[];
    return rows.map((r) => r.integrity_check).join('; ');
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#db.close();
    }
    return Promise.resolve();
  }

  #read<T>(work: () => T): Promise<T> {
    if (this.#closed) return Promise.reject(new StoreError(`${this.location}: the store is closed`));
    try {
      return Promise.resolve(work());
    } catch (err) {
      return Promise.reject(err instanceof RangeError ? err : explain(this.location, err));
    }
  }
}

function readVersion(db: BetterSqlite3.Database): number | null {
  const meta = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?`).get(META_TABLE);
  if (meta === undefined) return null;
  const row = db.prepare(`SELECT value FROM ${META_TABLE} WHERE key = 'schema_version'`).get() as { value: string } | undefined;
  return row === undefined ? null : Number(row.value);
}

/** Checks that the file is ours and brings it to SCHEMA_VERSION, one transaction per migration. */
function migrate(db: BetterSqlite3.Database, path: string, readonly: boolean): void {
  // The first read fails with SQLITE_NOTADB on a file that is not SQLite at all.
  const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as { name: string }[];
  const hasMeta = tables.some((t) => t.name === META_TABLE);
  if (!hasMeta && tables.length > 0) throw new StoreError(`${path} is not a flowmeter database (it holds other tables: ${tables.slice(0, 3).map((t) => t.name).join(', ')})`);
  if (hasMeta) {
    const app = db.prepare(`SELECT value FROM ${META_TABLE} WHERE key = 'app'`).get() as { value: string } | undefined;
    if (app?.value !== APP_MARK) throw new StoreError(`${path} is not a flowmeter database (its ${META_TABLE} table is not ours)`);
  }
  const version = readVersion(db) ?? 0;
  if (version > SCHEMA_VERSION) {
    throw new StoreError(`${path} was written by a newer flowmeter (schema version ${version}; this one reads up to ${SCHEMA_VERSION}); upgrade flowmeter to read it`);
  }
  if (version === SCHEMA_VERSION) return;
  if (readonly) throw new StoreError(`${path} is at schema version ${version} and needs migrating to ${SCHEMA_VERSION}; open it once for writing`);
  const steps = migrations('sqlite');
  const step = db.transaction((target: number) => {
    // Another process may have migrated while this one waited for the lock.
    const now = readVersion(db) ?? 0;
    if (now >= target) return;
    if (now === 0) {
      db.exec(createMeta());
      db.prepare(`INSERT OR REPLACE INTO ${META_TABLE} (key, value) VALUES ('app', ?)`).run(APP_MARK);
    }
    for (const sql of steps[target - 1] ?? []) db.exec(sql);
    db.prepare(`INSERT OR REPLACE INTO ${META_TABLE} (key, value) VALUES ('schema_version', ?)`).run(String(target));
  });
  for (let target = version + 1; target <= SCHEMA_VERSION; target++) step.immediate(target);
}

/** For tests of migration: brings a new file to an older schema version only. */
export function createAtVersion(path: string, target: number): void {
  const Driver = loadDriver();
  const db = new Driver(path);
  try {
    db.exec(createMeta());
    db.prepare(`INSERT OR REPLACE INTO ${META_TABLE} (key, value) VALUES ('app', ?)`).run(APP_MARK);
    const steps = migrations('sqlite');
    for (let v = 1; v <= target; v++) for (const sql of steps[v - 1] ?? []) db.exec(sql);
    db.prepare(`INSERT OR REPLACE INTO ${META_TABLE} (key, value) VALUES ('schema_version', ?)`).run(String(target));
  } finally {
    db.close();
  }
}
