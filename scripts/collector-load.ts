/**
 * Load on `flowmeter serve`: 500 WebSocket clients, 50 ingest clients posting NDJSON batches
 * and a Prometheus-style scrape every second, all at once for 60 s (`--seconds N` to change).
 * The server runs in its own process on a fresh SQLite store. Reports whether anything was
 * lost (events accepted = rows stored), how regular the 1 s `metrics.update` stream stayed at
 * p50/p99/max, and the server's CPU and memory from its own system samples.
 *
 *   npm run build && npx tsx scripts/collector-load.ts [--seconds 60] [--ws 500] [--ingest 50]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';

const arg = (name: string, fallback: number): number => {
  const at = process.argv.indexOf(`--${name}`);
  return at < 0 ? fallback : Number(process.argv[at + 1]);
};
const SECONDS = arg('seconds', 60);
const WS_CLIENTS = arg('ws', 500);
const INGEST_CLIENTS = arg('ingest', 50);
/** Runs per batch and calls per run: 50 clients × 2 batches/s × 10 runs × 6 calls ≈ 6,000 calls/s. */
const RUNS_PER_BATCH = 10;
const CALLS_PER_RUN = 6;
const BATCH_INTERVAL_MS = 500;

const root = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'flowmeter-load-'));
const db = join(dir, 'load.db');

function quantile(sorted: readonly number[], q: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * (sorted.length - 1)))]!;
}

/** One run as the SDK would send it: run_started, its LLM calls, run_finished. */
function runEvents(client: number, n: number): string[] {
  const runId = `load-${client}-${n}`;
  const t0 = Date.now() - 500;
  const iso = (ms: number): string => new Date(ms).toISOString();
  const meta = { run_id: runId, flow_id: `flow-${client % 5}`, task_id: null, agent: 'loader', exec_mode: 'dry_run', branch: 'main', app_id: `app-${client % 3}`, session_id: `s-${client}`, attributes: {} };
  const lines = [JSON.stringify({ kind: 'run_started', run: meta, ts: iso(t0) })];
  for (let i = 0; i < CALLS_PER_RUN; i++) {
    const start = t0 + i * 50;
    lines.push(
      JSON.stringify({
        kind: 'llm_call', run_id: runId, flow_id: meta.flow_id, agent: 'loader', step_id: null, provider: 'openai', model: i % 2 === 0 ? 'gpt-4o-mini' : 'gpt-4o', phase: 'default',
        start_ts: iso(start), end_ts: iso(start + 40), duration_ms: 40 + (n % 7), ttft_ms: 10, input_tokens: 100, output_tokens: 20, total_tokens: 120, cached_input_tokens: 0,
        cost_usd: 0.0001, cost_source: 'price_table', streaming: true, cache_hit: false, error_type: i === 5 && n % 10 === 0 ? 'rate_limit' : null,
      }),
    );
  }
  const event = {
    run_id: runId, task_id: null, flow_id: meta.flow_id, agent: 'loader', exec_mode: 'dry_run', branch: 'main', provider: 'openai', model: 'gpt-4o-mini', outcome: 'success', success: true, partial: false,
    started_at: iso(t0), finished_at: iso(t0 + 400), elapsed_seconds: 0.4, input_tokens: 600, output_tokens: 120, total_tokens: 720, cached_input_tokens: 0, cost_usd: 0.0006,
    limits_exceeded: [], retries: 0, retries_by_reason: {}, retry_backoff_seconds: 0, budget_exceeded_during_retry: false, llm_calls: CALLS_PER_RUN, tool_calls: 0, steps: 0,
    error_type: null, app_id: meta.app_id, session_id: meta.session_id, user_id: null, attributes: {},
  };
  lines.push(JSON.stringify({ kind: 'run_finished', run: meta, ts: iso(t0 + 400), event, summary: 'Execution time: 400ms' }));
  return lines;
}

async function main(): Promise<void> {
  const server = spawn(process.execPath, ['bin/flowmeter.js', 'serve', '--db', db, '--runs-dir', join(dir, 'runs'), '--port', '0', '--system-interval-ms', '1000'], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    server.stdout.on('data', (d: Buffer) => {
      out += d.toString('utf8');
      const m = /on (http:\/\/[\d.]+:\d+)/.exec(out);
      if (m !== null) resolve(m[1]!);
    });
    server.once('exit', (code) => reject(new Error(`flowmeter serve exited with ${String(code)}`)));
  });
  console.log(`collector ${url}: ${WS_CLIENTS} WebSocket clients, ${INGEST_CLIENTS} ingest clients (${RUNS_PER_BATCH} runs × ${CALLS_PER_RUN + 2} events every ${BATCH_INTERVAL_MS} ms each), a scrape every second, for ${SECONDS} s`);

  // WebSocket clients: the arrival times of each one's overall metrics.update.
  const arrivals: number[][] = [];
  const sockets: WebSocket[] = [];
  for (let i = 0; i < WS_CLIENTS; i++) {
    const times: number[] = [];
    arrivals.push(times);
    const ws = new WebSocket(`${url.replace('http', 'ws')}/ws`);
    ws.on('message', (data: Buffer) => {
      const text = data.toString('utf8');
      if (text.includes('"metrics.update"') && text.includes('"application_id":null')) times.push(performance.now());
    });
    ws.on('error', () => undefined);
    sockets.push(ws);
  }
  await Promise.all(sockets.map((ws) => new Promise((resolve) => ws.once('open', resolve))));

  const end = Date.now() + SECONDS * 1000;
  const sent = { runs: 0, calls: 0, events: 0, batches: 0, failedBatches: 0 };
  const ingest = async (client: number): Promise<void> => {
    for (let batch = 0; Date.now() < end; batch++) {
      const started = Date.now();
      const lines: string[] = [];
      for (let r = 0; r < RUNS_PER_BATCH; r++) lines.push(...runEvents(client, batch * RUNS_PER_BATCH + r));
      try {
        const res = await fetch(`${url}/api/events`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson', 'x-flowmeter-client': `loader-${client}` }, body: lines.join('\n') + '\n' });
        const body = (await res.json()) as { accepted?: number };
        if (res.ok && body.accepted === lines.length) {
          sent.batches++;
          sent.events += lines.length;
          sent.runs += RUNS_PER_BATCH;
          sent.calls += RUNS_PER_BATCH * CALLS_PER_RUN;
        } else sent.failedBatches++;
      } catch {
        sent.failedBatches++;
      }
      await new Promise((r) => setTimeout(r, Math.max(0, BATCH_INTERVAL_MS - (Date.now() - started))));
    }
  };
  const scrapes: number[] = [];
  const systems: { cpu: number; rss: number }[] = [];
  const scraper = async (): Promise<void> => {
    while (Date.now() < end) {
      const t = performance.now();
      await (await fetch(`${url}/metrics`)).text();
      scrapes.push(performance.now() - t);
      const health = (await (await fetch(`${url}/healthz`)).json()) as { system: { cpu_cores: number; rss_bytes: number } | null };
      if (health.system !== null) systems.push({ cpu: health.system.cpu_cores, rss: health.system.rss_bytes });
      await new Promise((r) => setTimeout(r, 1000));
    }
  };
  await Promise.all([...Array.from({ length: INGEST_CLIENTS }, (_, i) => ingest(i)), scraper()]);
  await new Promise((r) => setTimeout(r, 1500));
  for (const ws of sockets) ws.close();
  server.kill('SIGINT');
  await new Promise((resolve) => server.once('exit', resolve));

  const store = SqliteStore.open(db);
  const info = await store.info();
  await store.close();
  rmSync(dir, { recursive: true, force: true });

  // Intervals between consecutive updates, over every client, past the first 2 s of warm-up.
  const intervals = arrivals.flatMap((t) => t.slice(3).map((at, i) => at - t[i + 2]!)).sort((a, b) => a - b);
  const deviation = intervals.map((v) => Math.abs(v - 1000)).sort((a, b) => a - b);
  const cpu = systems.map((s) => s.cpu).sort((a, b) => a - b);
  const rss = systems.map((s) => s.rss).sort((a, b) => a - b);
  const result = {
    seconds: SECONDS,
    ingest: { batches: sent.batches, failed_batches: sent.failedBatches, events: sent.events, events_per_second: Math.round(sent.events / SECONDS), runs_sent: sent.runs, calls_sent: sent.calls },
    stored: { runs: info.runs, calls: info.calls, lost_runs: sent.runs - info.runs, lost_calls: sent.calls - info.calls },
    stream: { clients: WS_CLIENTS, updates: intervals.length, interval_p50_ms: quantile(intervals, 0.5), interval_p99_ms: quantile(intervals, 0.99), deviation_p99_ms: quantile(deviation, 0.99), interval_max_ms: intervals.at(-1) },
    scrape_ms: { p50: quantile([...scrapes].sort((a, b) => a - b), 0.5), max: Math.max(...scrapes) },
    server: { cpu_cores_p50: quantile(cpu, 0.5), cpu_cores_max: cpu.at(-1), rss_mb_max: Math.round((rss.at(-1) ?? 0) / 1e6) },
  };
  console.log(JSON.stringify(result, null, 2));
  const ok = result.stored.lost_runs === 0 && result.stored.lost_calls === 0 && sent.failedBatches === 0 && result.stream.deviation_p99_ms <= 100;
  console.log(ok ? 'OK: nothing lost, stream within 1 s ± 100 ms at p99' : 'NOT MET: see above');
  process.exitCode = ok ? 0 : 1;
}

await main();
