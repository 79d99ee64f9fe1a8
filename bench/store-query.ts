/**
 * `report --since 30d` over 1M calls (FLOWMETER_BENCH_CALLS=10000000 for 10M) in SQLite:
 * from the rollups (what `flowmeter report` does) beside the same numbers computed from the
 * raw rows.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import type { FlowEvent } from '../src/model/index.js';
import { QuantileSketch, RunStats } from '../src/stats/index.js';
import { BatchBuilder } from '../src/store/batch.js';
import { buildReport } from '../src/store/report.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import type { BenchResult } from './harness.js';
import { withPeer } from './harness.js';
import { benchEvents } from './store-data.js';

const DAY = 86_400_000;

/** The report's figures straight from raw rows: every call and run in the window read and sketched. */
function rawReport(file: string, since: number): { runs: number; calls: number; p95: number | null } {
  const db = new BetterSqlite3(file, { readonly: true });
  try {
    const latency = new QuantileSketch();
    let calls = 0;
    for (const row of db.prepare('SELECT duration_ms, cost_usd, total_tokens FROM calls WHERE end_ms >= ?').iterate(since) as Iterable<{ duration_ms: number }>) {
      latency.add(row.duration_ms);
      calls++;
    }
    const stats = new RunStats();
    const rows = db.prepare("SELECT * FROM runs WHERE status = 'finished' AND end_ms >= ?").iterate(since) as Iterable<Record<string, unknown>>;
    let runs = 0;
    for (const r of rows) {
      runs++;
      stats.observe({
        elapsed_seconds: Number(r.elapsed_seconds),
        cost_usd: r.cost_usd as number | null,
        total_tokens: r.total_tokens as number | null,
        input_tokens: r.input_tokens as number | null,
        output_tokens: r.output_tokens as number | null,
        retries: Number(r.retries),
        outcome: r.outcome,
        partial: r.partial === 1,
        retries_by_reason: JSON.parse(String(r.retries_by_reason)) as Record<string, number>,
        budget_exceeded_during_retry: r.budget_exceeded_during_retry === 1,
      } as unknown as Parameters<RunStats['observe']>[0]);
    }
    const slowest = db.prepare('SELECT run_id, seq, duration_ms FROM calls WHERE end_ms >= ? ORDER BY duration_ms DESC LIMIT 5').all(since);
    void slowest;
    return { runs, calls, p95: latency.quantile(0.95) };
  } finally {
    db.close();
  }
}

export async function benchStoreQuery(): Promise<BenchResult[]> {
  const total = Number(process.env.FLOWMETER_BENCH_CALLS ?? 1_000_000);
  const callsPerRun = 10;
  const dir = mkdtempSync(join(tmpdir(), 'fm-bench-query-'));
  const file = join(dir, 'report.db');
  try {
    const store = SqliteStore.open(file);
    const builder = new BatchBuilder();
    const now = Date.now();
    let pending: FlowEvent[] = [];
    for (const events of benchEvents(total / callsPerRun, callsPerRun, 30 * DAY, now - 60_000, 5)) {
      pending.push(...events);
      if (pending.length >= 20_000) {
        await store.write(builder.build(pending));
        pending = [];
      }
    }
    if (pending.length > 0) await store.write(builder.build(pending));
    const since = now - 30 * DAY;
    const until = now + 60_000;
    const times: number[] = [];
    let report;
    for (let i = 0; i < 5; i++) {
      const t = process.hrtime.bigint();
      report = await buildReport(store, { since, until });
      times.push(Number(process.hrtime.bigint() - t));
    }
    await store.close();
    const rawTimes: number[] = [];
    let raw;
    for (let i = 0; i < 3; i++) {
      const t = process.hrtime.bigint();
      raw = rawReport(file, since);
      rawTimes.push(Number(process.hrtime.bigint() - t));
    }
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
    const ours = median(times);
    const peer = median(rawTimes);
    const group = report?.groups[0];
    return [
      withPeer(`report --since 30d over ${(total / 1e6).toString()}M calls (rollups)`, ours, 'the same from raw rows', peer, {
        goal_ns: 300_000_000,
        note: `${(ours / 1e6).toFixed(0)} ms vs ${(peer / 1e6).toFixed(0)} ms from raw rows; ${group?.calls.requests ?? 0} calls and ${group?.runs ?? 0} runs counted (raw: ${raw?.calls ?? 0} and ${raw?.runs ?? 0}); p95 call latency ${group?.calls.latency_ms.p95?.toFixed(1) ?? '—'} ms vs ${raw?.p95?.toFixed(1) ?? '—'} ms`,
      }),
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
