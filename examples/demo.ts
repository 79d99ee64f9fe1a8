/**
 * `npm start`: a living demo. A small simulated fleet — the support agent and the example
 * workflows, dry-run, with realistic latencies, rate limits, server errors and retries —
 * runs continuously at a gentle rate, reports to a collector over HTTP like agents in other
 * processes would, and the collector stores everything in an embedded SQLite file and
 * serves the dashboard, the API and /metrics on http://127.0.0.1:9108. Ctrl-C stops it.
 * `npm start -- --once` runs the support agent once and prints its report instead.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createMeter } from '../src/index.js';
import { PrometheusView } from '../src/export/prometheus/index.js';
import { SystemMetrics } from '../src/export/system-metrics.js';
import { AlertEngine, parseAlert } from '../src/server/alerts.js';
import { startCollector } from '../src/server/index.js';
import { compilePlan, createRunMemory, createToolRegistry, LongTermMemory, runWorkflow, SimulatedProvider } from '../src/runtime/index.js';
import type { Plan } from '../src/runtime/index.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { main as once, runSupportAgent } from './support-agent.js';

if (process.argv.includes('--once')) {
  await once();
  process.exit(0);
}

const port = Number(process.env.FLOWMETER_DEMO_PORT ?? 9108);
const dir = process.env.FLOWMETER_DEMO_DIR ?? '.flowmeter/demo';
mkdirSync(dir, { recursive: true });
const store = SqliteStore.open(`${dir}/flowmeter.db`);
const view = new PrometheusView({ profiles: ['default'] });
const alerts = new AlertEngine({ store, alerts: [parseAlert('error_rate > 25% for 5m by flow'), parseAlert('p95(cost_usd) > 0.01 for 15m by flow')], registry: view.registry });
const collector = await startCollector({
  store,
  port,
  render: (format) => view.renderAsync(format),
  onEvents: (events) => {
    for (const e of events) view.record(e);
  },
  alerts,
});
const system = new SystemMetrics(view.registry, { intervalMs: 5_000, onSample: (s) => collector.broadcast({ type: 'system', ...s }) });
// The fleet reports to the collector as separate processes would: over HTTP.
const meter = createMeter({ runsDir: false, store: false, log: false, collector: collector.url, defaults: { execMode: 'dry_run' } });

const WORKFLOWS: Readonly<Record<string, Record<string, string>>> = {
  'chain.ais': { idea: 'cities should plant more trees' },
  'research.ais': { topic: 'tidal energy' },
  'routing.ais': { ticket: 'I was charged twice this month' },
  'agents.ais': { goal: 'a launch plan for a small bakery' },
};
const plans = new Map<string, Plan>();
for (const name of Object.keys(WORKFLOWS)) {
  const file = fileURLToPath(new URL(`./workflows/${name}`, import.meta.url));
  const { plan } = compilePlan(file, readFileSync(file, 'utf8'), 'O1', 'demo');
  if (plan !== undefined) plans.set(name, plan);
}
const ltm = new LongTermMemory();
const tools = await createToolRegistry({ modules: [fileURLToPath(new URL('./workflows/tools.ts', import.meta.url))] });

let stopping = false;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function supportLoop(): Promise<void> {
  for (let tick = 1; !stopping; tick++) {
    await runSupportAgent({ meter, tickets: 2, concurrency: 2, seed: tick, timeScale: 0.3 }).catch(() => undefined);
    await sleep(800 + (tick % 5) * 300);
  }
}

async function workflowLoop(): Promise<void> {
  for (let i = 1; !stopping; i++) {
    const name = [...plans.keys()][i % plans.size]!;
    const provider = new SimulatedProvider({ seed: 1000 + i, timeScale: 0.2, rateLimitRate: 0.05, serverErrorRate: 0.03 });
    await runWorkflow({ plan: plans.get(name)!, meter, provider, model: i % 3 === 0 ? 'claude-3-5-haiku' : 'gpt-4o-mini', tools, memory: () => createRunMemory({ ltm }), inputs: WORKFLOWS[name]!, execMode: 'dry_run' }).catch(() => undefined);
    await sleep(2_500);
  }
}

console.log(`flowmeter demo: dashboard http://127.0.0.1:${collector.port}/  metrics http://127.0.0.1:${collector.port}/metrics  store ${dir}/flowmeter.db  (Ctrl-C stops)`);
const status = setInterval(
  () => {
    const m = collector.live.updates().at(-1)?.metrics;
    if (m === undefined) return;
    const line = `${m.requests_per_second.toFixed(2)} LLM req/s | error rate ${m.error_rate === null ? '—' : `${(m.error_rate * 100).toFixed(1)}%`} | p95 ${m.p95_latency_ms === null ? '—' : `${m.p95_latency_ms.toFixed(0)} ms`} | $${m.cost_per_minute_usd.toFixed(4)}/min | active runs ${m.active_runs} | events stored ${collector.stats().events} | alerts firing ${alerts.firing().length}`;
    if (process.stdout.isTTY) process.stdout.write(`\r${line}\u001b[K`);
    else console.log(line);
  },
  process.stdout.isTTY ? 1_000 : 10_000,
);

const loops = Promise.all([supportLoop(), workflowLoop()]);
await new Promise<void>((resolve) => {
  let first = 0;
  const stop = (): void => {
    // A second Ctrl-C quits at once; the same signal relayed twice (a wrapper and its child) does not.
    if (first !== 0 && Date.now() - first > 1_000) process.exit(130);
    if (first === 0) first = Date.now();
    resolve();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
});
stopping = true;
clearInterval(status);
if (process.stdout.isTTY) process.stdout.write('\n');
console.log('flowmeter demo: stopping…');
await loops;
await meter.close();
system.stop();
await collector.close();
await store.close();
console.log('flowmeter demo: stopped');
