import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { CliIo } from '../../src/cli/io.js';
import type { Report } from '../../src/store/report.js';
import type { RunSnapshot } from '../../src/stats/index.js';
import { SqliteStore, createAtVersion } from '../../src/store/sqlite/sqlite-store.js';
import { SCHEMA_VERSION } from '../../src/store/schema.js';
import { makeRuns, storeMeter } from '../store/meter-runs.js';

function capture(): CliIo & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (l) => stdout.push(l), err: (l) => stderr.push(l) };
}

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = capture();
  const code = await main(argv, io);
  return { code, out: io.stdout.join('\n'), err: io.stderr.join('\n') };
}

let dir: string;
let db: string;
let snapshot: RunSnapshot;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fm-store-cli-'));
  db = join(dir, 'flowmeter.db');
  const meter = storeMeter(dir);
  await makeRuns(meter, 90);
  snapshot = meter.snapshot();
  await meter.close();
}, 60_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const within1 = (a: number | null, b: number | null): void => {
  expect(a === null).toBe(b === null);
  if (a !== null && b !== null) expect(Math.abs(a - b)).toBeLessThanOrEqual(Math.abs(b) * 0.01 + 1e-12);
};

describe('flowmeter report over the store', () => {
  it('agrees with meter.snapshot() of the same runs: counts and sums equal, percentiles within 1%', async () => {
    const { code, out } = await cli('report', '--db', db, '--json');
    expect(code).toBe(0);
    const report = JSON.parse(out) as Report;
    expect(report.groups).toHaveLength(1);
    const s = report.groups[0]!.snapshot;
    expect(s.total_runs).toBe(90);
    expect(s.total_runs).toBe(snapshot.total_runs);
    expect(s.outcome_distribution).toEqual(snapshot.outcome_distribution);
    expect(s.retry_reason_distribution).toEqual(snapshot.retry_reason_distribution);
    expect(s.cost_known_runs).toBe(snapshot.cost_known_runs);
    for (const metric of ['elapsed_seconds', 'cost_usd', 'total_tokens', 'retries'] as const) {
      expect(s.distributions[metric].count).toBe(snapshot.distributions[metric].count);
      expect(s.distributions[metric].sum).toBeCloseTo(snapshot.distributions[metric].sum, 9);
      for (const p of ['p50', 'p95', 'p99'] as const) within1(s.percentiles[metric][p], snapshot.percentiles[metric][p]);
    }
  });

  it('groups by flow, lists tokens and cost by model, the slowest calls and the F-score', async () => {
    const { code, out } = await cli('report', '--db', db, '--by', 'flow', '--json');
    expect(code).toBe(0);
    const report = JSON.parse(out) as Report;
    expect(report.groups.map((g) => g.group).sort()).toEqual(['billing', 'search', 'support']);
    expect(report.groups.reduce((n, g) => n + g.runs, 0)).toBe(90);
    const support = report.groups.find((g) => g.group === 'support')!;
    expect(support.slowest_calls!.length).toBe(5);
    const durations = support.slowest_calls!.map((c) => c.duration_ms);
    expect(durations).toEqual([...durations].sort((a, b) => b - a));
    const unpriced = support.models.find((m) => m.model === 'mystery-llm');
    expect(unpriced?.cost_usd).toBeNull();
    expect(support.fscore).not.toBeNull();
    // Every third run is labelled, and every third run is a support run.
    expect(support.fscore!.labelled_runs).toBe(30);
  });

  it('prints a readable table by default', async () => {
    const { code, out } = await cli('report', '--db', db, '--by', 'app', '--since', '1h');
    expect(code).toBe(0);
    expect(out).toMatch(/== app = web: \d+ runs/);
    expect(out).toMatch(/slowest +kind +name/);
    expect(out).toContain('p95');
  });

  it('says so when the window is empty', async () => {
    const { code, out } = await cli('report', '--db', db, '--from', '2001-01-01', '--to', '2001-01-02');
    expect(code).toBe(0);
    expect(out).toContain('no runs or calls in this window');
  });

  it('reads a runs folder when asked to, as before', async () => {
    const { code, out } = await cli('report', '--runs-dir', join(dir, 'runs'), '--json');
    expect(code).toBe(0);
    expect((JSON.parse(out) as RunSnapshot).total_runs).toBe(90);
  });
});

describe('flowmeter import', () => {
  it('loads a runs folder into a new store with the same report, and a second import changes nothing', async () => {
    const fresh = join(dir, 'imported.db');
    const first = await cli('import', '--runs-dir', join(dir, 'runs'), '--db', fresh);
    expect(first.code).toBe(0);
    expect(first.out).toContain('90 finished runs');
    const again = await cli('import', '--runs-dir', join(dir, 'runs'), '--db', fresh);
    expect(again.out).toContain('0 finished runs, 0 calls');
    const live = JSON.parse((await cli('report', '--db', db, '--by', 'flow', '--json')).out) as Report;
    const imported = JSON.parse((await cli('report', '--db', fresh, '--by', 'flow', '--json')).out) as Report;
    expect(imported.groups.map(({ snapshot: s, models, calls, slowest_calls, group }) => ({ s, models, calls, slowest_calls, group }))).toEqual(
      live.groups.map(({ snapshot: s, models, calls, slowest_calls, group }) => ({ s, models, calls, slowest_calls, group })),
    );
  });

  it('into the live store adds nothing: the meter already wrote every row', async () => {
    const copy = join(dir, 'copy.db');
    const store = SqliteStore.open(db);
    await store.close();
    copyFileSync(db, copy);
    const result = await cli('import', '--runs-dir', join(dir, 'runs'), '--db', copy);
    expect(result.out).toContain('0 finished runs, 0 calls, 0 steps, 0 retries new');
  });
});

describe('flowmeter check', () => {
  it('exits 0 when every threshold holds', async () => {
    const { code, out } = await cli('check', '--db', db, '--since', '1h', '--p95-cost-usd', '1000000', '--max-error-rate', '90%');
    expect(out).toContain('check passed');
    expect(code).toBe(0);
  });

  it('exits 1 and says which group broke which threshold, measured how', async () => {
    const { code, out } = await cli('check', '--db', db, '--since', '1h', '--by', 'flow', '--min-success-rate', '0.99', '--rule', 'p95(cost_usd) > 0.000001');
    expect(code).toBe(1);
    expect(out).toMatch(/^FAIL {2}flow=support {2}success_rate < 0.99 {2}measured 0\.\d+/m);
    expect(out).toMatch(/^FAIL {2}flow=billing {2}p95\(cost_usd\) > 0.000001 {2}measured [\d.]+ \(\+\d+% vs 0.000001\)/m);
    expect(out).toMatch(/check failed: \d+ of 6 checks broken over 90 runs/);
  });

  it('fails on a p95 that grew past --max-regression against a saved report', async () => {
    const saved = JSON.parse((await cli('report', '--db', db, '--json')).out) as Report;
    const group = saved.groups[0]!;
    const shrunk = { ...saved, groups: [{ ...group, cost_per_run_usd: { ...group.cost_per_run_usd, p95: group.cost_per_run_usd.p95! / 2 } }] };
    const file = join(dir, 'baseline.json');
    writeFileSync(file, JSON.stringify(shrunk));
    const { code, out } = await cli('check', '--db', db, '--baseline', file, '--max-regression', '10%');
    expect(code).toBe(1);
    expect(out).toMatch(/^FAIL {2}all {2}p95 cost per run \(USD\): .* \(\+100\.0%, limit \+10%\)/m);
    writeFileSync(file, JSON.stringify(saved));
    expect((await cli('check', '--db', db, '--baseline', file)).code).toBe(0);
  });

  it('fails on a window without runs unless --allow-empty', async () => {
    const args = ['check', '--db', db, '--from', '2001-01-01', '--to', '2001-01-02', '--max-error-rate', '0.1'];
    expect((await cli(...args)).code).toBe(1);
    expect((await cli(...args, '--allow-empty')).code).toBe(0);
  });

  it('answers a bad rule with the reason and exit code 2', async () => {
    const bad = await cli('check', '--db', db, '--rule', 'p97(cost) > 1');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/unknown statistic p97/);
    expect((await cli('check', '--db', db, '--max-error-rate', 'lots')).code).toBe(2);
  });
});

describe('a store file that cannot be read', () => {
  it.each([
    ['is not SQLite', (f: string) => writeFileSync(f, 'hello, this is not a database at all'.repeat(200)), /is not a flowmeter database \(not a SQLite file\)/],
    [
      'is another program\'s SQLite database',
      (f: string) => {
        const other = new BetterSqlite3(f);
        other.exec('CREATE TABLE invoices (id INTEGER)');
        other.close();
      },
      /is not a flowmeter database \(it holds other tables: invoices\)/,
    ],
    [
      'was written by a newer flowmeter',
      (f: string) => {
        createAtVersion(f, SCHEMA_VERSION);
        const raw = new BetterSqlite3(f);
        raw.prepare("UPDATE flowmeter_meta SET value = '99' WHERE key = 'schema_version'").run();
        raw.close();
      },
      /was written by a newer flowmeter \(schema version 99; this one reads up to \d+\); upgrade flowmeter/,
    ],
  ])('gives one line and exit code 1 when it %s', async (_what, make, message) => {
    const file = join(dir, `bad-${Math.random().toString(36).slice(2)}.db`);
    make(file);
    for (const command of [['report', '--db', file], ['check', '--db', file, '--max-error-rate', '1'], ['import', '--runs-dir', join(dir, 'runs'), '--db', file]]) {
      const { code, err } = await cli(...command);
      expect(code).toBe(1);
      expect(err).toMatch(message);
      expect(err.split('\n')).toHaveLength(1);
    }
  });

  it('gives one line for a corrupt file', async () => {
    const file = join(dir, 'corrupt.db');
    copyFileSync(db, file);
    const bytes = Buffer.alloc(4096, 0xab);
    const { openSync, writeSync, closeSync } = await import('node:fs');
    const fd = openSync(file, 'r+');
    writeSync(fd, bytes, 0, bytes.length, 4096 * 2);
    writeSync(fd, bytes, 0, bytes.length, 4096 * 5);
    closeSync(fd);
    const { code, err } = await cli('report', '--db', file, '--by', 'flow');
    expect(code).toBe(1);
    expect(err).toMatch(/^flowmeter: .*corrupt.db (is corrupt|is not a flowmeter database)/);
    expect(err).not.toMatch(/\n\s+at /);
  });

  it('migrates a file from an older version on open, keeping its rows', async () => {
    const file = join(dir, 'v1.db');
    createAtVersion(file, 1);
    const raw = new BetterSqlite3(file);
    raw.prepare(`INSERT INTO runs (run_id, flow_id, agent, exec_mode, branch, status, start_ms, limits_exceeded, retries_by_reason, attributes) VALUES ('old', 'f', 'a', 'live', 'main', 'running', 1, '[]', '{}', '{}')`).run();
    raw.close();
    const store = SqliteStore.open(file);
    const info = await store.info();
    expect(info.schema_version).toBe(SCHEMA_VERSION);
    expect(info.runs).toBe(1);
    expect(info.call_rollups).toBe(0);
    await store.close();
  });
});
