import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { FlowEvent } from '../../src/model/index.js';
import { BatchBuilder } from '../../src/store/batch.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { QuantileSketch } from '../../src/stats/index.js';
import { mulberry32 } from '../stats/fixtures.js';
import { T0, runEvents } from './fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'fm-accuracy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const MINUTES = 1_440;
const PER_MINUTE = 8;

/** Latency shapes (ms) that break interpolated buckets: flat, skewed, two modes, a heavy tail, near-constant. */
const SHAPES: Record<string, (r: () => number) => number> = {
  uniform: (r) => 1 + r() * 5_000,
  lognormal: (r) => Math.exp(5 + 1.5 * Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r())),
  bimodal: (r) => (r() < 0.8 ? 80 + r() * 40 : 4_000 + r() * 2_000),
  pareto: (r) => 50 / Math.pow(1 - r(), 1 / 1.2),
  narrow: (r) => 250 + r() * 2,
};

describe('percentiles after merging 1,440 minute rollups', () => {
  it.each(Object.keys(SHAPES))('are within 1%% of exact at p50, p95 and p99 for %s latencies', async (shape) => {
    const random = mulberry32(shape.length * 7919);
    const draw = SHAPES[shape]!;
    const events: FlowEvent[] = [];
    const exact: number[] = [];
    for (let m = 0; m < MINUTES; m++) {
      const calls = Array.from({ length: PER_MINUTE }, () => Math.round(draw(random) * 1000) / 1000);
      exact.push(...calls);
      // One run per minute, its calls laid end to end in a few milliseconds so all end inside that
      // minute; each call then carries its drawn duration.
      const run = runEvents({ runId: `${shape}-${m}`, startMs: T0 + m * 60_000, calls: calls.map((c) => c / PER_MINUTE / 100) });
      run.filter((e) => e.kind === 'llm_call').forEach((e, i) => Object.assign(e, { duration_ms: calls[i] }));
      events.push(...run);
    }
    const store = SqliteStore.open(join(dir, `${shape}.db`));
    const builder = new BatchBuilder();
    for (let i = 0; i < events.length; i += 20_000) await store.write(builder.build(events.slice(i, i + 20_000)));
    const set = await store.rollups({ since: T0, until: T0 + MINUTES * 60_000, span: '1m' });
    await store.close();
    expect(new Set(set.calls.map((r) => r.bucket_ms)).size).toBe(MINUTES);
    const merged = new QuantileSketch();
    for (const row of set.calls) merged.merge(row.latency);
    expect(merged.count).toBe(exact.length);
    exact.sort((a, b) => a - b);
    for (const q of [0.5, 0.95, 0.99]) {
      const truth = exact[Math.floor(q * (exact.length - 1))]!;
      expect(Math.abs(merged.quantile(q)! - truth) / truth).toBeLessThanOrEqual(0.01 + 1e-9);
    }
  }, 60_000);
});
