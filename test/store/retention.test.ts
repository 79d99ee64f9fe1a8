import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { createMeter } from '../../src/meter/index.js';
import { MeterConfigError } from '../../src/meter/errors.js';
import { BatchBuilder } from '../../src/store/batch.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { Report } from '../../src/store/report.js';
import { runEvents } from './fixtures.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const DAY = 86_400_000;

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** A store with runs 40 days old and runs from today. */
async function agedStore(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'fm-retain-'));
  dirs.push(dir);
  const file = join(dir, 'flowmeter.db');
  const store = SqliteStore.open(file);
  const builder = new BatchBuilder();
  const now = Date.now();
  for (let i = 0; i < 6; i++) await store.write(builder.build(runEvents({ runId: `old-${i}`, startMs: now - 40 * DAY + i * 60_000, calls: [100, 200] })));
  for (let i = 0; i < 4; i++) await store.write(builder.build(runEvents({ runId: `new-${i}`, startMs: now - 3_600_000 + i * 60_000, calls: [50] })));
  await store.close();
  return file;
}

describe('retention', () => {
  it('flowmeter prune drops raw rows past --retain-raw while rollups keep old windows reporting', async () => {
    const file = await agedStore();
    const before = JSON.parse((await cli('report', '--db', file, '--since', '60d', '--json')).out) as Report;
    const { code, out } = await cli('prune', '--db', file, '--retain-raw', '30d', '--retain-rollups', '400d');
    expect(code).toBe(0);
    expect(out).toMatch(/pruned .*: 6 runs, 12 calls, 0 rollup rows/);
    const store = SqliteStore.open(file);
    const info = await store.info();
    await store.close();
    expect(info.runs).toBe(4);
    const after = JSON.parse((await cli('report', '--db', file, '--since', '60d', '--json')).out) as Report;
    expect(after.groups[0]!.runs).toBe(10);
    expect(after.groups[0]!.snapshot).toEqual(before.groups[0]!.snapshot);
    // The slowest calls come from raw rows, so only today's remain.
    expect(after.groups[0]!.slowest_calls!.every((c) => c.run_id.startsWith('new-'))).toBe(true);
  });

  it('drops rollups past --retain-rollups, and refuses rollups kept shorter than raw rows', async () => {
    const file = await agedStore();
    expect((await cli('prune', '--db', file, '--retain-rollups', '20d')).code).toBe(0);
    const report = JSON.parse((await cli('report', '--db', file, '--since', '60d', '--json')).out) as Report;
    expect(report.groups[0]!.runs).toBe(4);
    const bad = await cli('prune', '--db', file, '--retain-raw', '30d', '--retain-rollups', '7d');
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/rollups must be kept at least as long as raw rows/);
    expect((await cli('prune', '--db', file, '--retain-raw', 'forever')).code).toBe(2);
  });

  it('runs in the background of a meter with a retention policy', async () => {
    const file = await agedStore();
    const meter = createMeter({ runsDir: false, log: false, env: {}, store: { path: file }, retention: { raw: '30d' } });
    await meter.runSettled({ flowId: 'f' }, () => undefined);
    await meter.close();
    const store = SqliteStore.open(file);
    const page = await store.runs({ limit: 100 });
    await store.close();
    expect(page.runs.some((r) => r.run_id.startsWith('old-'))).toBe(false);
    expect(page.runs).toHaveLength(5);
    expect(() => createMeter({ runsDir: false, env: {}, retention: { raw: 'soon' } })).toThrow(MeterConfigError);
  });
});
