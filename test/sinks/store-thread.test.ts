import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMeter, MeterConfigError } from '../../src/meter/index.js';
import type { FlowEvent } from '../../src/model/index.js';
import { StoreSink } from '../../src/sinks/store.js';
import { StoreThreadSink } from '../../src/sinks/store-thread.js';
import { openStore } from '../../src/store/open.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { fleet, runEvents, T0 } from '../store/fixtures.js';
import { makeRuns, storeMeter } from '../store/meter-runs.js';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'flowmeter-store-thread-'));
});

afterEach(() => {
  chmodSync(dir, 0o755);
  rmSync(dir, { recursive: true, force: true });
});

const HOUR = 3_600_000;

/** 60 runs over two hours, each run's events split over two batches and interleaved with the next run's. */
function batches(): FlowEvent[][] {
  const runs = fleet(60, 2 * HOUR).map(runEvents);
  const out: FlowEvent[][] = [];
  for (let i = 0; i < runs.length; i += 2) {
    const a = runs[i]!;
    const b = runs[i + 1] ?? [];
    const half = (events: FlowEvent[]): number => Math.ceil(events.length / 2);
    out.push([...a.slice(0, half(a)), ...b.slice(0, half(b))], [...a.slice(half(a)), ...b.slice(half(b))]);
  }
  return out;
}

/** Everything a report reads back from a SQLite file: runs with their details, calls, rollups and counts. */
async function contents(path: string): Promise<unknown> {
  const store = SqliteStore.open(path, { readonly: true });
  try {
    const runs = (await store.runs({ limit: 1000 })).runs;
    return {
      runs,
      details: await Promise.all(runs.map((r) => store.run(r.run_id))),
      calls: await store.calls({ since: 0, limit: 1000, order: 'newest' }),
      rollups: await store.rollups({ since: T0 - HOUR, until: T0 + 24 * HOUR }),
      info: { ...(await store.info()), location: '' },
    };
  } finally {
    await store.close();
  }
}

async function count(path: string): Promise<{ runs: number; calls: number; finished: number }> {
  const store = SqliteStore.open(path, { readonly: true });
  try {
    const info = await store.info();
    return { runs: info.runs, calls: info.calls, finished: (await store.runs({ status: 'finished', limit: 1000 })).runs.length };
  } finally {
    await store.close();
  }
}

async function runIds(path: string): Promise<string[]> {
  const store = SqliteStore.open(path, { readonly: true });
  try {
    return (await store.runs({ limit: 1000 })).runs.map((r) => r.run_id).sort();
  } finally {
    await store.close();
  }
}

describe('StoreThreadSink', () => {
  it('writes the same rows as StoreSink', async () => {
    const onLoop = new StoreSink({ open: () => openStore({ path: join(dir, 'loop.db') }) });
    const onThread = new StoreThreadSink({ store: { path: join(dir, 'thread.db') } });
    for (const batch of batches()) {
      onLoop.write(batch);
      onThread.write(batch);
    }
    await onLoop.close();
    await onThread.close();
    const expected = await contents(join(dir, 'loop.db'));
    expect(expected).toMatchObject({ info: { runs: 60 } });
    expect(await contents(join(dir, 'thread.db'))).toEqual(expected);
    expect(onThread.stats()).toEqual({ ...onLoop.stats(), written_batches: onThread.stats().written_batches });
  });

  it('has every row committed, and counted in stats(), when flush() resolves', async () => {
    const path = join(dir, 'flush.db');
    const sink = new StoreThreadSink({ store: { path }, flushIntervalMs: 60_000 });
    const [first, second] = [runEvents({ runId: 'a', startMs: T0, calls: [10, 20] }), runEvents({ runId: 'b', startMs: T0 + 1000, calls: [30] })];
    sink.write(first);
    expect(sink.stats().pending_rows).toBeGreaterThan(0);
    await sink.flush();
    expect(await count(path)).toEqual({ runs: 1, calls: 2, finished: 1 });
    sink.write(second);
    await sink.flush();
    expect(await count(path)).toEqual({ runs: 2, calls: 3, finished: 2 });
    expect(sink.stats()).toMatchObject({ pending_rows: 0, dropped_rows: 0, available: true });
    expect(sink.stats().written_rows).toBeGreaterThanOrEqual(5);
    await sink.close();
  });

  it('closes once, commits what came before, and ignores what comes after', async () => {
    const path = join(dir, 'close.db');
    const sink = new StoreThreadSink({ store: { path } });
    sink.write(runEvents({ runId: 'before', startMs: T0 }));
    await Promise.all([sink.close(), sink.close()]);
    sink.write(runEvents({ runId: 'after', startMs: T0 }));
    await sink.flush();
    await sink.close();
    expect(await count(path)).toEqual({ runs: 1, calls: 1, finished: 1 });
    expect(sink.stats()).toMatchObject({ pending_rows: 0, dropped_rows: 0 });
  });

  it('drops and counts a batch it cannot copy to the thread, and goes on', async () => {
    const path = join(dir, 'copy.db');
    const warnings: string[] = [];
    const sink = new StoreThreadSink({ store: { path }, onWarning: (m) => warnings.push(m) });
    const [started] = runEvents({ runId: 'uncopyable', startMs: T0 });
    const bad = { ...started, run: { ...(started as Extract<FlowEvent, { kind: 'run_started' }>).run, attributes: { callback: () => 1 } } } as unknown as FlowEvent;
    sink.write([bad]);
    await new Promise((resolve) => setImmediate(resolve));
    sink.write(runEvents({ runId: 'fine', startMs: T0 }));
    await sink.flush();
    await sink.close();
    expect(warnings).toEqual([expect.stringMatching(/could not be handed to the store thread/)]);
    expect(sink.stats()).toMatchObject({ dropped_rows: 1, pending_rows: 0 });
    expect(await runIds(path)).toEqual(['fine']);
  });

  it('starts no thread and opens no store for a sink that never writes', async () => {
    const sink = new StoreThreadSink({ store: { path: join(dir, 'never.db') } });
    await sink.flush();
    sink.drainNow();
    await sink.close();
    expect(() => SqliteStore.open(join(dir, 'never.db'), { readonly: true })).toThrow();
  });

  it('goes on writing on the main thread when its thread dies, counting what the thread held', async () => {
    const path = join(dir, 'fallback.db');
    const warnings: string[] = [];
    const sink = new StoreThreadSink({ store: { path }, flushIntervalMs: 60_000, onWarning: (m) => warnings.push(m) });
    sink.write(runEvents({ runId: 'kept', startMs: T0 }));
    await sink.flush();
    sink.write(runEvents({ runId: 'held', startMs: T0 + 1000 }));
    // Let the worker take the batch into its backlog, where it waits a minute to be written.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(sink.stats().pending_rows).toBeGreaterThan(0);
    await (sink as unknown as { worker: Worker }).worker.terminate();
    sink.write(runEvents({ runId: 'after', startMs: T0 + 2000 }));
    await sink.flush();
    await sink.close();
    expect(warnings).toEqual([expect.stringMatching(/store thread failed .*; \d+ rows were not written; writing on the main thread from now on/)]);
    expect(await runIds(path)).toEqual(['after', 'kept']);
    expect(sink.stats().dropped_rows).toBeGreaterThan(0);
    expect(sink.stats().pending_rows).toBe(0);
  });
});

describe("createMeter({ storeWriter: 'thread' })", () => {
  it('stores the same runs, calls and rollups as the sync writer', async () => {
    const totals = async (writer: 'sync' | 'thread'): Promise<unknown> => {
      const at = join(dir, writer);
      const meter = storeMeter(at, { storeWriter: writer, runsDir: false, store: { path: join(at + '.db') } });
      await makeRuns(meter, 30);
      await meter.close();
      expect(meter.diagnostics().store).toMatchObject({ available: true, dropped_rows: 0, pending_rows: 0 });
      const store = SqliteStore.open(at + '.db', { readonly: true });
      try {
        const info = await store.info();
        const calls = await store.calls({ since: 0, limit: 1000 });
        const rollups = await store.rollups({ since: Date.now() - 2 * HOUR, until: Date.now() + HOUR });
        const sum = (rows: readonly Record<string, unknown>[], key: string): number => rows.reduce((n, r) => n + Number(r[key] ?? 0), 0);
        return {
          runs: info.runs,
          calls: info.calls,
          tokens: calls.reduce((n, c) => n + (c.total_tokens ?? 0), 0).toString(),
          outcomes: (await store.runs({ limit: 1000 })).runs.map((r) => r.outcome).sort(),
          rolled_calls: sum(rollups.calls as unknown as Record<string, unknown>[], 'requests'),
          rolled_runs: sum(rollups.runs as unknown as Record<string, unknown>[], 'runs'),
          written_rows: meter.diagnostics().store?.written_rows,
        };
      } finally {
        await store.close();
      }
    };
    const sync = await totals('sync');
    expect(sync).toMatchObject({ runs: 30 });
    expect(await totals('thread')).toEqual(sync);
  });

  it('warns once and goes on when the thread cannot open the store', async () => {
    const blocker = join(dir, 'a-file');
    writeFileSync(blocker, '');
    const warnings: string[] = [];
    const meter = createMeter({ runsDir: false, log: false, env: {}, storeWriter: 'thread', store: { path: join(blocker, 'flowmeter.db') }, onWarning: (m) => warnings.push(m) });
    let finished = 0;
    for (let i = 0; i < 3; i++) {
      await meter.runSettled({ flowId: 'f' }, () => {
        finished++;
      });
      await meter.flush();
    }
    await meter.close();
    expect(finished).toBe(3);
    expect(warnings.filter((w) => w.includes('store could not be opened'))).toHaveLength(1);
    expect(warnings).toHaveLength(1);
    expect(meter.diagnostics().store).toMatchObject({ available: false, pending_rows: 0 });
    expect(meter.diagnostics().store!.dropped_rows).toBeGreaterThanOrEqual(6);
  });

  it('makes a store the thread cannot open a configuration error from ready()', async () => {
    const blocker = join(dir, 'a-file');
    writeFileSync(blocker, '');
    const meter = createMeter({ runsDir: false, log: false, env: {}, storeWriter: 'thread', store: { path: join(blocker, 'flowmeter.db') }, onWarning: () => undefined });
    await expect(meter.ready()).rejects.toThrow(MeterConfigError);
    await meter.close();
  });

  it('commits every run before a process that never flushes exits', () => {
    const path = join(dir, 'exit.db');
    const child = join(import.meta.dirname, 'fixtures', 'store-thread-exit-child.ts');
    const result = spawnSync(process.execPath, ['--import', 'tsx', child, path, 'thread'], { encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
    const store = SqliteStore.open(path, { readonly: true });
    return Promise.all([store.info(), store.runs({ status: 'finished', limit: 1000 })])
      .then(([info, finished]) => {
        expect(info).toMatchObject({ runs: 200, calls: 200 });
        expect(finished.runs).toHaveLength(200);
      })
      .finally(() => store.close());
  });

  it('rejects a writer it does not know', () => {
    expect(() => createMeter({ storeWriter: 'async' as 'thread', env: {} })).toThrow(MeterConfigError);
    expect(() => createMeter({ storeWriter: 'async' as 'thread', env: {} })).toThrow(/storeWriter must be 'sync' or 'thread', got "async"/);
  });
});
