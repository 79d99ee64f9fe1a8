import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { PG_URL, dropSchema, uniqueSchema } from './postgres-helpers.js';

const CHILD = join(import.meta.dirname, 'fixtures', 'writer-child.ts');
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'fm-durable-'));
  dirs.push(d);
  return d;
}

function start(args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}

function finish(child: ChildProcess): Promise<{ code: number | null; out: string; err: string }> {
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, out, err })));
}

function waitFor(child: ChildProcess, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    child.stdout?.on('data', (d: Buffer) => {
      seen += d.toString();
      if (seen.includes(text)) resolve();
    });
    child.on('close', () => reject(new Error(`child ended before "${text}"`)));
  });
}

interface Counts {
  runs: number;
  finished: number;
  calls: number;
  rolledCalls: number;
  rolledRuns: number;
  distinctRuns: number;
}

function sqliteCounts(file: string): Counts & { integrity: string } {
  const db = new BetterSqlite3(file, { readonly: true });
  try {
    const one = (sql: string): number => (db.prepare(sql).get() as { n: number | null }).n ?? 0;
    return {
      integrity: (db.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check).join(';'),
      runs: one('SELECT count(*) AS n FROM runs'),
      finished: one("SELECT count(*) AS n FROM runs WHERE status = 'finished'"),
      calls: one('SELECT count(*) AS n FROM calls'),
      distinctRuns: one('SELECT count(DISTINCT run_id) AS n FROM runs'),
      rolledCalls: one("SELECT sum(requests) AS n FROM call_rollups WHERE span = '1m'"),
      rolledRuns: one("SELECT sum(runs) AS n FROM run_rollups WHERE span = '1d'"),
    };
  } finally {
    db.close();
  }
}

async function pgCounts(schema: string): Promise<Counts> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(`SET search_path = ${schema}`);
    const one = async (sql: string): Promise<number> => Number((await client.query<{ n: string | null }>(sql)).rows[0]?.n ?? 0);
    return {
      runs: await one('SELECT count(*) AS n FROM runs'),
      finished: await one("SELECT count(*) AS n FROM runs WHERE status = 'finished'"),
      calls: await one('SELECT count(*) AS n FROM calls'),
      distinctRuns: await one('SELECT count(DISTINCT run_id) AS n FROM runs'),
      rolledCalls: await one("SELECT sum(requests) AS n FROM call_rollups WHERE span = '1m'"),
      rolledRuns: await one("SELECT sum(runs) AS n FROM run_rollups WHERE span = '1d'"),
    };
  } finally {
    await client.end();
  }
}

describe('a crash (kill -9) mid-run', () => {
  it('leaves a SQLite store that passes integrity_check, with rollups equal to what the raw rows give', async () => {
    const dir = tempDir();
    const file = join(dir, 'flowmeter.db');
    for (let trial = 0; trial < 3; trial++) {
      const child = start([file, `crash${trial}`, '0', '4']);
      await waitFor(child, 'ready');
      await new Promise((r) => setTimeout(r, 150 + trial * 120));
      child.kill('SIGKILL');
      await finish(child);
    }
    const c = sqliteCounts(file);
    expect(c.integrity).toBe('ok');
    expect(c.finished).toBeGreaterThan(3);
    expect(c.rolledCalls).toBe(c.calls);
    expect(c.rolledRuns).toBe(c.finished);
    expect(c.distinctRuns).toBe(c.runs);
  }, 60_000);
});

describe('four writer processes at once', () => {
  it('lose and duplicate nothing in one SQLite file', async () => {
    const file = join(tempDir(), 'shared.db');
    const results = await Promise.all(['a', 'b', 'c', 'd'].map((p) => finish(start([file, p, '150', '3']))));
    for (const r of results) expect(r.out).toContain('done 150');
    const c = sqliteCounts(file);
    expect(c.integrity).toBe('ok');
    expect(c).toMatchObject({ runs: 600, finished: 600, distinctRuns: 600, calls: 1800, rolledCalls: 1800, rolledRuns: 600 });
  }, 120_000);

  it('lose and duplicate nothing in one PostgreSQL schema', async () => {
    const schema = uniqueSchema('fm_parallel');
    try {
      const url = `${PG_URL}?schema=${schema}`;
      const results = await Promise.all(['a', 'b', 'c', 'd'].map((p) => finish(start([url, p, '150', '3']))));
      for (const r of results) expect(r.out + r.err).toContain('done 150');
      expect(await pgCounts(schema)).toMatchObject({ runs: 600, finished: 600, distinctRuns: 600, calls: 1800, rolledCalls: 1800, rolledRuns: 600 });
    } finally {
      await dropSchema(schema);
    }
  }, 120_000);
});
