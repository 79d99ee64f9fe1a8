import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FlowEvent } from '../../src/model/index.js';
import { BatchBuilder } from '../../src/store/batch.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { Store } from '../../src/store/store.js';
import { RunStats } from '../../src/stats/index.js';
import { T0, fleet, runEvents } from './fixtures.js';
import { postgresFactory } from './postgres-helpers.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface Backend {
  readonly name: string;
  open(): Promise<Store>;
  cleanup?(): Promise<void>;
}

const backends: Backend[] = [
  { name: 'memory', open: () => Promise.resolve(new MemoryStore()) },
  {
    name: 'sqlite',
    open: () => {
      const dir = mkdtempSync(join(tmpdir(), 'fm-store-'));
      dirs.push(dir);
      return Promise.resolve(SqliteStore.open(join(dir, 'flowmeter.db')));
    },
  },
  postgresFactory(),
];

async function writeAll(store: Store, events: readonly FlowEvent[], builder = new BatchBuilder()): Promise<void> {
  await store.write(builder.build(events));
}

describe.each(backends)('the $name store', (backend) => {
  let store: Store;
  beforeEach(async () => {
    store = await backend.open();
  });
  afterEach(async () => {
    await store.close();
    await backend.cleanup?.();
  });

  it('keeps a finished run with every RunEvent field, its steps, calls and retries', async () => {
    await writeAll(store, runEvents({ runId: 'r1', startMs: T0, app: 'shop', calls: [120, 80], tool: true, retry: true, attributes: { ticket: 7 } }));
    const detail = await store.run('r1');
    expect(detail).not.toBeNull();
    const run = detail!.run;
    expect(run).toMatchObject({ run_id: 'r1', status: 'finished', outcome: 'success', success: true, partial: false, app_id: 'shop', flow_id: 'support' });
    expect(run.start_ms).toBe(T0);
    expect(run.end_ms).toBe(T0 + 220);
    expect(run.elapsed_seconds).toBeCloseTo(0.22, 10);
    expect(run.total_tokens).toBe(300);
    expect(run.cost_usd).toBeCloseTo(0.002, 12);
    expect(run.cost_source).toBe('price_table');
    expect(run.retries_by_reason).toEqual({ rate_limit: 1 });
    expect(run.attributes).toEqual({ ticket: 7 });
    expect(run.summary).toBe('Execution time: 220ms');
    expect(detail!.calls.map((c) => [c.seq, c.kind, c.duration_ms])).toEqual([
      [0, 'llm', 120],
      [1, 'llm', 80],
      [2, 'tool', 20],
    ]);
    expect(detail!.calls[0]).toMatchObject({ app_id: 'shop', ttft_ms: 30, streaming: true, cache_hit: false, success: true, sample_rate: 1 });
    expect(detail!.steps).toHaveLength(1);
    expect(detail!.retries).toEqual([{ run_id: 'r1', seq: 0, step_id: 'answer', reason: 'rate_limit', attempt: 1, backoff_seconds: 0.5, at_ms: T0 + 200 }]);
  });

  it('stores an unknown cost as null, never 0', async () => {
    await writeAll(store, runEvents({ runId: 'free', startMs: T0, costPerCall: null }));
    const detail = await store.run('free');
    expect(detail!.run.cost_usd).toBeNull();
    expect(detail!.run.cost_source).toBeNull();
    expect(detail!.calls[0]!.cost_usd).toBeNull();
  });

  it('shows a run that has started and not finished as running', async () => {
    const events = runEvents({ runId: 'open', startMs: T0 });
    await writeAll(store, events.slice(0, 2));
    const page = await store.runs({ status: 'running' });
    expect(page.runs.map((r) => r.run_id)).toEqual(['open']);
    expect(page.runs[0]!.outcome).toBeNull();
  });

  it('finishes a run whose start came in an earlier batch, keeping the ids set at the start', async () => {
    const builder = new BatchBuilder();
    const events = runEvents({ runId: 'split', startMs: T0, app: 'shop', calls: [10, 20, 30] });
    await writeAll(store, events.slice(0, 2), builder);
    await writeAll(store, events.slice(2), builder);
    const detail = await store.run('split');
    expect(detail!.run.status).toBe('finished');
    expect(detail!.calls.map((c) => c.seq)).toEqual([0, 1, 2]);
    const rollups = await store.rollups({ since: T0, until: T0 + 60_000 });
    expect(rollups.calls.reduce((n, r) => n + r.requests, 0)).toBe(3);
    expect(rollups.runs.reduce((n, r) => n + r.runs, 0)).toBe(1);
  });

  it('writes a replayed batch once: no duplicate rows and no double-counted rollups', async () => {
    const events = fleet(30, 5 * 60_000).flatMap(runEvents);
    const batch = new BatchBuilder().build(events);
    const first = await store.write(batch);
    const again = await store.write(batch);
    const replayed = await store.write(new BatchBuilder().build(events));
    expect(first.duplicates).toBe(0);
    expect(again.runsFinished + again.calls + again.runsStarted).toBe(0);
    expect(replayed.duplicates).toBe(first.runsStarted + first.runsFinished + first.calls + first.steps + first.retries);
    const info = await store.info();
    expect(info.runs).toBe(30);
    const rollups = await store.rollups({ since: T0, until: T0 + 3_600_000 });
    expect(rollups.runs.reduce((n, r) => n + r.runs, 0)).toBe(30);
    expect(rollups.calls.reduce((n, r) => n + r.requests, 0)).toBe(events.filter((e) => e.kind === 'llm_call').length);
  });

  it('writes a bulk batch of calls with awkward text exactly, and once when replayed', async () => {
    // 1,500 calls in one batch: PostgreSQL takes its COPY path for batches this large.
    const events = runEvents({ runId: 'bulk', startMs: T0, calls: Array.from({ length: 1_500 }, (_, i) => 10 + (i % 7)) });
    const awkward = ['tab\there', 'line\nbreak', 'back\\slash', 'carriage\rreturn', '\\N', 'ünïcödé ✓'];
    let n = 0;
    const edited = events.map((e) => (e.kind === 'llm_call' && n < awkward.length ? { ...e, error_type: 'provider_error', error_message: awkward[n++] } : e));
    const first = await store.write(new BatchBuilder().build(edited));
    expect(first.calls).toBe(1_500);
    const again = await store.write(new BatchBuilder().build(edited));
    expect(again.calls).toBe(0);
    expect(again.duplicates).toBeGreaterThanOrEqual(1_500);
    const detail = await store.run('bulk');
    expect(detail!.calls).toHaveLength(1_500);
    expect(detail!.calls.slice(0, awkward.length).map((c) => c.error_message)).toEqual(awkward);
    expect(detail!.calls[awkward.length]!.error_message).toBeNull();
    expect(detail!.calls.reduce((sum, c) => sum + c.duration_ms, 0)).toBe(events.reduce((sum, e) => sum + (e.kind === 'llm_call' ? e.duration_ms : 0), 0));
    const rollups = await store.rollups({ since: T0, until: T0 + 3_600_000 });
    expect(rollups.calls.reduce((sum, r) => sum + r.requests, 0)).toBe(1_500);
  });

  it('writes only the new calls of a bulk batch that replays some stored ones, and counts only those', async () => {
    // Two runs of 800 calls: the second write carries the first run again (PostgreSQL's COPY meets stored keys).
    const first = runEvents({ runId: 'old', startMs: T0, calls: Array.from({ length: 800 }, (_, i) => 5 + (i % 11)) });
    const second = runEvents({ runId: 'new', startMs: T0 + 1_000, calls: Array.from({ length: 800 }, (_, i) => 7 + (i % 5)) });
    const a = await store.write(new BatchBuilder().build(first));
    expect([a.runsStarted, a.runsFinished, a.calls, a.duplicates]).toEqual([1, 1, 800, 0]);
    const b = await store.write(new BatchBuilder().build([...first, ...second]));
    expect([b.runsStarted, b.runsFinished, b.calls]).toEqual([1, 1, 800]);
    expect(b.duplicates).toBe(a.runsStarted + a.runsFinished + a.calls + a.steps + a.retries);
    expect((await store.run('new'))!.calls).toHaveLength(800);
    const rollups = await store.rollups({ since: T0, until: T0 + 3_600_000 });
    expect(rollups.calls.reduce((sum, r) => sum + r.requests, 0)).toBe(1_600);
    expect(rollups.runs.reduce((sum, r) => sum + r.runs, 0)).toBe(2);
  });

  it('pages through runs newest first with a cursor and filters', async () => {
    for (const spec of fleet(23, 60 * 60_000)) await writeAll(store, runEvents(spec));
    const seen: string[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await store.runs({ limit: 5, ...(cursor === undefined ? {} : { cursor }) });
      seen.push(...page.runs.map((r) => r.run_id));
      if (page.next_cursor === null) break;
      cursor = page.next_cursor;
    }
    expect(seen).toHaveLength(23);
    expect(seen).toEqual([...seen].sort().reverse());
    const billing = await store.runs({ flow: 'billing', limit: 100 });
    expect(billing.runs.length).toBeGreaterThan(0);
    expect(billing.runs.every((r) => r.flow_id === 'billing')).toBe(true);
    const shop = await store.runs({ app: 'shop', since: T0 + 30 * 60_000, limit: 100 });
    expect(shop.runs.every((r) => r.app_id === 'shop' && r.start_ms >= T0 + 30 * 60_000)).toBe(true);
    await expect(store.runs({ cursor: 'not-a-cursor' })).rejects.toThrow(/cursor/);
  });

  it('lists child runs under their parent', async () => {
    await writeAll(store, runEvents({ runId: 'parent', startMs: T0 }));
    await writeAll(store, runEvents({ runId: 'child-a', startMs: T0 + 10, parent: 'parent' }));
    await writeAll(store, runEvents({ runId: 'child-b', startMs: T0 + 20, parent: 'parent' }));
    const detail = await store.run('parent');
    expect(detail!.children.map((c) => c.run_id)).toEqual(['child-a', 'child-b']);
    expect((await store.runs({ parent: 'parent' })).runs).toHaveLength(2);
  });

  it('finds the slowest calls in a window', async () => {
    await writeAll(store, runEvents({ runId: 'a', startMs: T0, calls: [5, 900, 40] }));
    await writeAll(store, runEvents({ runId: 'b', startMs: T0 + 120_000, calls: [700, 3000] }));
    const slowest = await store.calls({ since: T0, until: T0 + 60_000, limit: 2 });
    expect(slowest.map((c) => c.duration_ms)).toEqual([900, 40]);
    const all = await store.calls({ limit: 3, kind: 'llm' });
    expect(all.map((c) => c.duration_ms)).toEqual([3000, 900, 700]);
  });

  it('finds the slowest calls of a short window among many slower calls outside it', async () => {
    // More slow calls outside the window than a store reads from its slowest-first index before sorting the window itself.
    await writeAll(store, runEvents({ runId: 'busy', startMs: T0 + 3_600_000, calls: Array.from({ length: 6_000 }, (_, i) => 500 + (i % 50)) }));
    await writeAll(store, runEvents({ runId: 'quiet', startMs: T0, calls: [5, 7, 6] }));
    const slowest = await store.calls({ since: T0, until: T0 + 60_000, limit: 2 });
    expect(slowest.map((c) => [c.run_id, c.duration_ms])).toEqual([
      ['quiet', 7],
      ['quiet', 6],
    ]);
    const overall = await store.calls({ limit: 2 });
    expect(overall.map((c) => c.duration_ms)).toEqual([549, 549]);
  });

  it('rolls calls and runs up per minute, hour and day, and a window merges to the exact counts and 1% percentiles', async () => {
    const specs = fleet(400, 2 * 86_400_000);
    const events = specs.flatMap(runEvents);
    const builder = new BatchBuilder();
    for (let i = 0; i < events.length; i += 250) await store.write(builder.build(events.slice(i, i + 250)));
    const since = T0 + 3 * 3_600_000 + 17 * 60_000;
    const until = T0 + 40 * 3_600_000 + 5 * 60_000;
    const set = await store.rollups({ since, until });
    const spans = new Set(set.calls.map((r) => r.span));
    expect(spans).toEqual(new Set(['1m', '1h', '1d']));

    const exactRuns = new RunStats();
    let exactCalls = 0;
    let exactCost = 0;
    const latencies: number[] = [];
    for (const e of events) {
      if (e.kind === 'run_finished') {
        const end = Date.parse(e.event.finished_at);
        if (end >= since && end < until) exactRuns.observe(e.event);
      }
      if (e.kind === 'llm_call') {
        const end = Date.parse(e.end_ts);
        if (end >= since && end < until) {
          exactCalls++;
          exactCost += e.cost_usd ?? 0;
          latencies.push(e.duration_ms);
        }
      }
    }
    const merged = new RunStats();
    for (const r of set.runs) merged.merge(r.stats);
    expect(merged.snapshot().total_runs).toBe(exactRuns.snapshot().total_runs);
    expect(merged.snapshot().outcome_distribution).toEqual(exactRuns.snapshot().outcome_distribution);
    expect(merged.snapshot().distributions.cost_usd.sum).toBeCloseTo(exactRuns.snapshot().distributions.cost_usd.sum, 9);
    expect(set.calls.reduce((n, r) => n + r.requests, 0)).toBe(exactCalls);
    expect(set.calls.reduce((n, r) => n + r.cost_usd, 0)).toBeCloseTo(exactCost, 9);
    const latency = set.calls[0]!.latency;
    for (const r of set.calls.slice(1)) latency.merge(r.latency);
    latencies.sort((a, b) => a - b);
    for (const q of [0.5, 0.95, 0.99]) {
      const exact = latencies[Math.floor(q * (latencies.length - 1))]!;
      expect(Math.abs(latency.quantile(q)! - exact) / exact).toBeLessThanOrEqual(0.01 + 1e-9);
    }
  });

  it('counts sampled-away calls in the rollups and keeps one row in N', async () => {
    const events = runEvents({ runId: 'busy', startMs: T0, calls: Array.from({ length: 20 }, (_, i) => 10 + i) });
    await store.write(new BatchBuilder().build(events, { callSampleRate: 0.25 }));
    const detail = await store.run('busy');
    expect(detail!.calls.map((c) => c.seq)).toEqual([0, 4, 8, 12, 16]);
    expect(detail!.calls.every((c) => c.sample_rate === 0.25)).toBe(true);
    const rollups = await store.rollups({ since: T0, until: T0 + 60_000 });
    expect(rollups.calls.reduce((n, r) => n + r.requests, 0)).toBe(20);
  });

  it('drops raw rows and rollups past their retention, rollups outliving raw rows', async () => {
    await writeAll(store, runEvents({ runId: 'old', startMs: T0 }));
    await writeAll(store, runEvents({ runId: 'new', startMs: T0 + 3 * 86_400_000 }));
    const result = await store.retain({ rawBefore: T0 + 86_400_000, rollupsBefore: T0 - 86_400_000 * 2 });
    expect(result.runs).toBe(1);
    expect(result.calls).toBe(1);
    expect(result.rollups).toBe(0);
    expect(await store.run('old')).toBeNull();
    const set = await store.rollups({ since: T0 - 86_400_000, until: T0 + 4 * 86_400_000 });
    expect(set.runs.reduce((n, r) => n + r.runs, 0)).toBe(2);
    const gone = await store.retain({ rollupsBefore: T0 + 2 * 86_400_000 });
    expect(gone.rollups).toBeGreaterThan(0);
    const after = await store.rollups({ since: T0 - 86_400_000, until: T0 + 4 * 86_400_000 });
    expect(after.runs.reduce((n, r) => n + r.runs, 0)).toBe(1);
  });
});
