/**
 * Store ingest: call events per second into SQLite and PostgreSQL through the store's
 * batched writer, beside the naive way (one INSERT per event, each its own transaction).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import type { FlowEvent, LlmCall } from '../src/model/index.js';
import { BatchBuilder } from '../src/store/batch.js';
import { copyLine, copyRows } from '../src/store/postgres/copy-text.js';
import { callValues } from '../src/store/rows.js';
import type { SqlValue } from '../src/store/rows.js';
import { CALL_COLUMNS, migrations } from '../src/store/schema.js';
import { PostgresStore } from '../src/store/postgres/postgres-store.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import type { Store } from '../src/store/store.js';
import type { BenchResult } from './harness.js';
import { round, withPeer } from './harness.js';
import { benchEvents } from './store-data.js';

const PG_URL = process.env.FLOWMETER_BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432/test';
// What the store writer takes per transaction under load (StoreSink's batchRows).
const BATCH_EVENTS = 50_000;

function collect(runs: number, calls: number, seed: number): FlowEvent[] {
  const out: FlowEvent[] = [];
  // Spread as they would arrive at 300,000 calls a second: the rollup cells a batch touches are those of one or two minutes.
  for (const events of benchEvents(runs, calls, Math.max(1_000, Math.round(((runs * calls) / 300_000) * 1000)), Date.now(), seed)) out.push(...events);
  return out;
}

/** ns per call event through BatchBuilder + Store.write, batches of 50,000 events. */
async function storeIngest(store: Store, events: readonly FlowEvent[]): Promise<number> {
  const builder = new BatchBuilder();
  const calls = events.filter((e) => e.kind === 'llm_call').length;
  const start = process.hrtime.bigint();
  for (let i = 0; i < events.length; i += BATCH_EVENTS) await store.write(builder.build(events.slice(i, i + BATCH_EVENTS)));
  return Number(process.hrtime.bigint() - start) / calls;
}

const NAIVE_SQL = 'INSERT INTO naive_calls (run_id, model, start_ts, end_ts, duration_ms, input_tokens, output_tokens, cost_usd, error_type) VALUES ';

function naiveRow(e: LlmCall): (string | number | null)[] {
  return [e.run_id, e.model, e.start_ts, e.end_ts, e.duration_ms, e.input_tokens, e.output_tokens, e.cost_usd, e.error_type];
}

/**
 * ns per row of the call rows alone through one prepared INSERT, in one transaction: into
 * an in-memory table with no key or index (the driver's floor), and into the store's own
 * calls table (key and indexes as migrated) in a WAL file.
 */
function sqliteFloor(events: readonly FlowEvent[], dir: string): { keyed: number; bare: number } {
  const rows = new BatchBuilder().build(events).calls.map(callValues);
  const time = (db: BetterSqlite3.Database): number => {
    const insert = db.prepare<[SqlValue[]]>(`INSERT INTO calls (${CALL_COLUMNS.map((c) => c.name).join(', ')}) VALUES (${CALL_COLUMNS.map(() => '?').join(', ')})`);
    const start = process.hrtime.bigint();
    db.transaction(() => {
      for (const row of rows) insert.run(row);
    })();
    return Number(process.hrtime.bigint() - start) / rows.length;
  };
  const bare = new BetterSqlite3(':memory:');
  const keyed = new BetterSqlite3(join(dir, 'floor.db'));
  try {
    bare.exec(`CREATE TABLE calls (${CALL_COLUMNS.map((c) => c.name).join(', ')})`);
    time(bare);
    bare.exec('DELETE FROM calls');
    keyed.pragma('journal_mode = WAL');
    keyed.pragma('synchronous = NORMAL');
    for (const step of migrations('sqlite')) for (const sql of step) keyed.exec(sql);
    return { bare: time(bare), keyed: time(keyed) };
  } finally {
    bare.close();
    keyed.close();
  }
}

/** ns per row of the call rows alone COPYed into a table with the calls key and indexes, and into one with none. */
async function postgresFloor(client: pg.Client, events: readonly FlowEvent[]): Promise<{ keyed: number; bare: number }> {
  const calls = new BatchBuilder().build(events).calls;
  const line = copyLine(callValues);
  const columns = CALL_COLUMNS.map((c) => c.name).join(', ');
  const time = async (table: string): Promise<number> => {
    await client.query('BEGIN');
    const start = process.hrtime.bigint();
    await copyRows(client, table, columns, calls, line);
    await client.query('COMMIT');
    return Number(process.hrtime.bigint() - start) / calls.length;
  };
  await client.query('CREATE TABLE floor_keyed (LIKE calls INCLUDING ALL)');
  await client.query('CREATE TABLE floor_bare (LIKE calls)');
  return { keyed: await time('floor_keyed'), bare: await time('floor_bare') };
}

export async function benchStoreIngest(): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'fm-bench-store-'));
  try {
    // SQLite: 20,000 runs × 10 calls = 200,000 call events.
    const events = collect(20_000, 10, 1);
    const sqlite = SqliteStore.open(join(dir, 'bench.db'));
    await storeIngest(sqlite, collect(1_000, 10, 99));
    const ours = await storeIngest(sqlite, events);
    await sqlite.close();

    const naive = new BetterSqlite3(join(dir, 'naive.db'));
    naive.pragma('journal_mode = WAL');
    naive.pragma('synchronous = NORMAL');
    naive.exec('CREATE TABLE naive_calls (run_id TEXT, model TEXT, start_ts TEXT, end_ts TEXT, duration_ms REAL, input_tokens INTEGER, output_tokens INTEGER, cost_usd REAL, error_type TEXT)');
    const insert = naive.prepare(`${NAIVE_SQL}(?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    const naiveEvents = events.filter((e): e is LlmCall => e.kind === 'llm_call').slice(0, 20_000);
    const t0 = process.hrtime.bigint();
    for (const e of naiveEvents) insert.run(...naiveRow(e));
    const naiveNs = Number(process.hrtime.bigint() - t0) / naiveEvents.length;
    naive.close();
    const floor = sqliteFloor(events, dir);
    results.push(
      withPeer('store ingest, SQLite (call events, batched)', ours, 'one INSERT per event', naiveNs, {
        goal_ns: 3_333,
        note: `${Math.round(1e9 / ours).toLocaleString('en-US')} call events/s (goal 300,000/s) with runs, steps and minute/hour/day rollups; naive: ${Math.round(1e9 / naiveNs).toLocaleString('en-US')}/s into one bare table`,
      }),
      {
        name: 'SQLite floor: INSERT of the call rows alone',
        ns_per_op: round(floor.keyed),
        goal_ns: 3_333,
        note: `${Math.round(1e9 / floor.keyed).toLocaleString('en-US')} rows/s: the same call rows through one prepared INSERT into the store's calls table (its key and indexes, WAL), nothing else (no runs, no rollups); ${Math.round(1e9 / floor.bare).toLocaleString('en-US')}/s into an in-memory table with no key or index`,
      },
    );

    // PostgreSQL: 10,000 runs × 10 calls = 100,000 call events.
    const schema = `fm_bench_${process.pid}`;
    const pgStore = await PostgresStore.open(PG_URL, { schema });
    try {
      await storeIngest(pgStore, collect(500, 10, 98));
      const pgEvents = collect(10_000, 10, 2);
      const pgOurs = await storeIngest(pgStore, pgEvents);
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      await client.query(`SET search_path = ${schema}`);
      await client.query('CREATE TABLE naive_calls (run_id text, model text, start_ts text, end_ts text, duration_ms float8, input_tokens bigint, output_tokens bigint, cost_usd float8, error_type text)');
      const pgNaive = pgEvents.filter((e): e is LlmCall => e.kind === 'llm_call').slice(0, 5_000);
      const t1 = process.hrtime.bigint();
      for (const e of pgNaive) await client.query(`${NAIVE_SQL}($1, $2, $3, $4, $5, $6, $7, $8, $9)`, naiveRow(e));
      const pgNaiveNs = Number(process.hrtime.bigint() - t1) / pgNaive.length;
      const pgFloor = await postgresFloor(client, pgEvents);
      await client.query(`DROP SCHEMA ${schema} CASCADE`);
      await client.end();
      results.push(
        withPeer('store ingest, PostgreSQL (call events, batched)', pgOurs, 'one INSERT per event', pgNaiveNs, {
          goal_ns: 6_667,
          note: `${Math.round(1e9 / pgOurs).toLocaleString('en-US')} call events/s (goal 150,000/s), COPY into the calls table and rollups under row locks; naive: ${Math.round(1e9 / pgNaiveNs).toLocaleString('en-US')}/s`,
        }),
        {
          name: 'PostgreSQL floor: COPY of the call rows alone',
          ns_per_op: round(pgFloor.keyed),
          goal_ns: 6_667,
          note: `${Math.round(1e9 / pgFloor.keyed).toLocaleString('en-US')} rows/s: the same call rows COPYed into a table with the calls key and indexes, nothing else (no runs, no rollups); ${Math.round(1e9 / pgFloor.bare).toLocaleString('en-US')}/s into one with none`,
        },
      );
    } finally {
      await pgStore.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}
