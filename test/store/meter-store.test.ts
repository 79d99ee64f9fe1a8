import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createMeter } from '../../src/meter/index.js';
import { MeterConfigError } from '../../src/meter/errors.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { StoreSink } from '../../src/sinks/store.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import type { Store, StoreBatch, WriteResult } from '../../src/store/store.js';
import { PG_URL } from './postgres-helpers.js';
import { makeRuns, storeMeter } from './meter-runs.js';
import { runEvents, T0 } from './fixtures.js';
import { main } from '../../src/cli/main.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) {
    try {
      chmodSync(d, 0o755);
    } catch {
      // already gone
    }
    rmSync(d, { recursive: true, force: true });
  }
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'fm-meter-store-'));
  dirs.push(d);
  return d;
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('the meter and its store', () => {
  it('writes flowmeter.db beside the runs folder by default', async () => {
    const dir = tempDir();
    const meter = storeMeter(dir);
    await makeRuns(meter, 5);
    await meter.close();
    expect(existsSync(join(dir, 'flowmeter.db'))).toBe(true);
    const store = SqliteStore.open(join(dir, 'flowmeter.db'));
    expect((await store.info()).runs).toBe(5);
    await store.close();
    expect(meter.diagnostics().store).toMatchObject({ available: true, dropped_rows: 0, pending_rows: 0 });
  });

  it('writes no store with store: false or FLOWMETER_DB=off', async () => {
    for (const options of [{ store: false as const }, { env: { FLOWMETER_DB: 'off' } }]) {
      const dir = tempDir();
      const meter = storeMeter(dir, options);
      await makeRuns(meter, 2);
      await meter.close();
      expect(existsSync(join(dir, 'flowmeter.db'))).toBe(false);
      expect(meter.diagnostics().store).toBeNull();
    }
  });

  it('goes on without a store it cannot open, warning once and counting what it could not keep', async () => {
    const dir = tempDir();
    const locked = join(dir, 'readonly');
    mkdirSync(locked);
    chmodSync(locked, 0o500);
    const warnings: string[] = [];
    // root ignores directory permissions, so the store path is made unusable another way too: a folder where the file should be.
    mkdirSync(join(locked, 'flowmeter.db'), { recursive: true });
    const meter = createMeter({ runsDir: false, log: false, env: {}, store: { path: join(locked, 'flowmeter.db') }, onWarning: (m) => warnings.push(m) });
    let finished = 0;
    for (let i = 0; i < 3; i++) {
      await meter.runSettled({ flowId: 'f' }, () => {
        finished++;
      });
    }
    await meter.close();
    expect(finished).toBe(3);
    expect(warnings.filter((w) => w.includes('store could not be opened'))).toHaveLength(1);
    expect(meter.diagnostics().store).toMatchObject({ available: false });
    expect(meter.diagnostics().store!.dropped_rows).toBeGreaterThan(0);
  });

  it('makes a PostgreSQL that is down at start a configuration error from ready(), and one line with exit 1 from the CLI', async () => {
    const meter = createMeter({ runsDir: false, log: false, env: {}, store: { url: 'postgres://postgres@127.0.0.1:1/nothing' }, onWarning: () => undefined });
    await expect(meter.ready()).rejects.toThrow(MeterConfigError);
    await expect(meter.ready()).rejects.toThrow(/cannot reach PostgreSQL at postgres:\/\/postgres@127.0.0.1:1\/nothing/);
    await meter.close();
    const err: string[] = [];
    const code = await main(['run', join(import.meta.dirname, '../../examples/workflows/routing.ais'), '--dry-run', '-q', '--input', 'ticket=x', '--runs-dir', join(tempDir(), 'runs'), '--db', 'postgres://postgres@127.0.0.1:1/nothing'], {
      out: () => undefined,
      err: (l) => err.push(l),
    });
    expect(code).toBe(1);
    expect(err.at(-1)).toMatch(/^flowmeter: cannot reach PostgreSQL at .*127.0.0.1:1/);
  }, 30_000);

  it('keeps rows waiting while PostgreSQL is away and writes them when it is back', async () => {
    const name = `fm_outage_${Math.random().toString(36).slice(2, 10)}`;
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    const url = PG_URL.replace(/\/[^/]*$/, `/${name}`);
    const warnings: string[] = [];
    const meter = createMeter({ runsDir: false, log: false, env: {}, store: { url }, onWarning: (m) => warnings.push(m), flushTimeoutMs: 20_000 });
    try {
      await meter.ready();
      await makeRuns(meter, 5);
      await meter.flush();
      const count = async (): Promise<number> => {
        const c = new pg.Client({ connectionString: url });
        await c.connect();
        try {
          return Number((await c.query<{ n: string }>("SELECT count(*) AS n FROM runs WHERE status = 'finished'")).rows[0]!.n);
        } finally {
          await c.end();
        }
      };
      expect(await count()).toBe(5);

      // The server goes away for this database: connections cut, new ones refused.
      await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
      await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1`, [name]);
      await makeRuns(meter, 5, 9);
      await until(() => (meter.diagnostics().store?.write_errors ?? 0) > 0, 10_000);
      expect(meter.diagnostics().store!.pending_rows).toBeGreaterThan(0);
      expect(warnings.some((w) => w.includes('writing to the store failed'))).toBe(true);

      await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);
      await until(() => meter.diagnostics().store!.pending_rows === 0, 15_000);
      expect(await count()).toBe(10);
      expect(meter.diagnostics().store!.dropped_rows).toBe(0);
    } finally {
      await meter.close();
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    }
  }, 60_000);
});

/** A store that takes its time, to fill the sink's backlog. */
class SlowStore implements Store {
  readonly kind = 'memory' as const;
  readonly location = 'slow';
  readonly inner = new MemoryStore();
  release: (() => void) | undefined;
  gate = new Promise<void>((resolve) => (this.release = resolve));
  async write(batch: StoreBatch): Promise<WriteResult> {
    await this.gate;
    return this.inner.write(batch);
  }
  runs = this.inner.runs.bind(this.inner);
  run = this.inner.run.bind(this.inner);
  calls = this.inner.calls.bind(this.inner);
  rollups = this.inner.rollups.bind(this.inner);
  retain = this.inner.retain.bind(this.inner);
  info = this.inner.info.bind(this.inner);
  close = this.inner.close.bind(this.inner);
}

describe('the store sink under overload', () => {
  it('samples raw call rows and drops what does not fit, while rollup counts stay exact', async () => {
    const slow = new SlowStore();
    const sink = new StoreSink({ open: () => Promise.resolve(slow), maxPendingRows: 200, batchRows: 50, flushIntervalMs: 1, onWarning: () => undefined });
    let calls = 0;
    for (let r = 0; r < 40; r++) {
      const events = runEvents({ runId: `r${String(r).padStart(3, '0')}`, startMs: T0 + r * 1000, calls: Array.from({ length: 10 }, () => 5) });
      calls += events.filter((e) => e.kind === 'llm_call').length;
      sink.write(events);
    }
    const stats = sink.stats();
    expect(stats.sampled_calls).toBeGreaterThan(0);
    expect(stats.pending_rows).toBeLessThanOrEqual(200);
    slow.release?.();
    await sink.close();
    const rollups = await slow.inner.rollups({ since: T0, until: T0 + 3_600_000 });
    const rolled = rollups.calls.reduce((n, r) => n + r.requests, 0);
    const info = await slow.inner.info();
    // Every call is in the rollups: the kept rows plus the sampled ones, less any dropped once the backlog was full.
    expect(rolled + sink.stats().dropped_rows).toBeGreaterThanOrEqual(calls);
    expect(rolled).toBeLessThanOrEqual(calls);
    // Rollups hold exactly the kept rows and the sampled calls.
    expect(rolled).toBe(info.calls + sink.stats().sampled_calls);
    expect(info.calls).toBeLessThan(calls);
    const sampledRows = (await slow.inner.calls({ limit: 1000 })).filter((c) => c.sample_rate < 1);
    expect(sampledRows.length).toBeGreaterThan(0);
  });
});
