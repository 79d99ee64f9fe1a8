import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createMeter } from '../../src/meter/index.js';
import type { Meter } from '../../src/meter/index.js';
import type { RunEvent } from '../../src/model/index.js';
import { startCollector } from '../../src/server/index.js';
import type { Collector, MetricsUpdate } from '../../src/server/index.js';
import { InMemorySink } from '../../src/sinks/index.js';
import { buildReport } from '../../src/store/report.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { PRICED_MODEL, PRICES } from '../meter/fixtures.js';

const TOKEN = 'collector-secret';
const dir = mkdtempSync(join(tmpdir(), 'flowmeter-collector-'));
let store: SqliteStore;
let collector: Collector;
let meter: Meter;
const sink = new InMemorySink();
const finished: RunEvent[] = [];

const auth = { authorization: `Bearer ${TOKEN}` };
const get = async (path: string, headers: Record<string, string> = auth): Promise<{ status: number; body: Record<string, unknown> }> => {
  const res = await fetch(collector.url + path, { headers });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};
const post = async (body: string, headers: Record<string, string> = auth): Promise<{ status: number; body: Record<string, unknown> }> => {
  const res = await fetch(collector.url + '/api/events', { method: 'POST', headers: { 'content-type': 'application/x-ndjson', ...headers }, body });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

/** A run of `calls` LLM calls (10 input, 2 output tokens each at $1/$2) in app `app`. */
async function makeRun(flowId: string, app: string, calls: number, fail = false): Promise<void> {
  await meter
    .run({ flowId, appId: app, sessionId: `${app}-session` }, async () => {
      for (let i = 0; i < calls; i++) await meter.llmCall({ model: PRICED_MODEL, provider: 'openai' }, (call) => call.usage({ inputTokens: 10, outputTokens: 2 }));
      if (fail) throw new Error('agent failed');
    })
    .catch(() => undefined);
}

beforeAll(async () => {
  store = SqliteStore.open(join(dir, 'collector.db'));
  collector = await startCollector({ store, port: 0, token: TOKEN, render: () => '# no metrics\n', tickMs: 200 });
  // An agent in "another process": it writes no files of its own and sends everything to the collector.
  meter = createMeter({ runsDir: false, store: false, log: false, env: {}, prices: PRICES, collector: { url: collector.url, token: TOKEN }, sinks: [sink], onRunEnd: ({ event }) => finished.push(event) });
  // Runs are listed by start time to the millisecond: start each in a millisecond of its own.
  const nextMs = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 3));
  await makeRun('support', 'web', 3);
  await nextMs();
  await makeRun('support', 'web', 1, true);
  await nextMs();
  await makeRun('billing', 'batch', 2);
  await meter.flush();
});

afterAll(async () => {
  await meter.close();
  await collector.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the collector: ingest from the SDK and the REST API', () => {
  it('stores every event a meter sends with `collector`, and lists the runs newest first', async () => {
    expect(collector.stats()).toMatchObject({ rejected: 0 });
    const { status, body } = await get('/api/runs');
    expect(status).toBe(200);
    const runs = body.runs as { run_id: string; outcome: string; cost_usd: number; app_id: string }[];
    expect(runs.map((r) => r.run_id)).toEqual(finished.map((e) => e.run_id).reverse());
    expect(runs.map((r) => r.outcome)).toEqual(['success', 'tool_error', 'success']);
    expect(runs.map((r) => r.cost_usd)).toEqual(finished.map((e) => e.cost_usd).reverse());
    const filtered = await get('/api/runs?app=web&outcome=tool_error');
    expect((filtered.body.runs as { run_id: string }[]).map((r) => r.run_id)).toEqual([finished[1]!.run_id]);
  });

  it('answers one run with its calls, and 404 for an unknown one', async () => {
    const one = await get(`/api/runs/${finished[0]!.run_id}`);
    expect(one.status).toBe(200);
    expect((one.body.calls as unknown[]).length).toBe(3);
    expect(one.body.run).toMatchObject({ run_id: finished[0]!.run_id, total_tokens: 36, llm_calls: 3 });
    const missing = await get('/api/runs/nope');
    expect(missing.status).toBe(404);
    expect(missing.body.error).toBe('no run "nope"');
  });

  it("answers /api/stats with the report's numbers", async () => {
    const { body } = await get('/api/stats?by=flow');
    const expected = await buildReport(store, { since: 0, until: Date.now() + 60_000, by: 'flow' });
    expect((body.groups as unknown[]).length).toBe(2);
    expect(body.groups).toEqual(JSON.parse(JSON.stringify(expected.groups)));
  });

  it('answers /api/timeseries from the rollups: requests, cost and latency per minute, by model', async () => {
    const requests = await get('/api/timeseries?metric=requests_per_second&since=1h&step=1m');
    expect(requests.status).toBe(200);
    const series = requests.body.series as { key: string; points: [number, number][] }[];
    expect(series.map((s) => s.key)).toEqual(['all']);
    const total = series[0]!.points.reduce((sum, [, v]) => sum + v * 60, 0);
    expect(total).toBeCloseTo(6, 6);
    const cost = await get('/api/timeseries?metric=cost_per_minute_usd&since=1h&step=1m&by=model');
    const costSeries = cost.body.series as { key: string; points: [number, number][] }[];
    expect(costSeries.map((s) => s.key)).toEqual([PRICED_MODEL]);
    expect(costSeries[0]!.points.reduce((sum, [, v]) => sum + v, 0)).toBeCloseTo(6 * 14, 6);
    const p95 = await get('/api/timeseries?metric=latency_p95_ms&since=1h');
    expect((p95.body.series as { points: [number, number][] }[])[0]!.points[0]![1]).toBeGreaterThan(0);
  });

  it('refuses a bad query with the reason', async () => {
    expect(await get('/api/runs?limit=0')).toMatchObject({ status: 400 });
    expect((await get('/api/runs?since=yesterday')).body.error).toContain('since: "yesterday" is neither a duration');
    expect((await get('/api/runs?colour=red')).body.error).toBe('unknown parameter "colour"');
    expect((await get('/api/timeseries?metric=happiness')).status).toBe(400);
    expect((await get('/api/timeseries?metric=error_rate&since=365d&step=1m')).body.error).toContain('more than 10,000 points');
  });

  it('refuses a batch with a bad line whole, with its line number, and stores none of it', async () => {
    const before = (await store.info()).runs;
    const good = JSON.stringify({ kind: 'run_started', ts: new Date().toISOString(), run: { run_id: 'ingest-1', flow_id: 'f', task_id: null, agent: 'a', exec_mode: 'live', branch: 'main', attributes: {} } });
    const bad = JSON.stringify({ kind: 'llm_call', run_id: 'ingest-1', flow_id: 'f', agent: 'a', model: 'm' });
    const refused = await post(`${good}\n${good}\n${bad}\n`);
    expect(refused.status).toBe(400);
    expect(refused.body.line).toBe(3);
    expect(String(refused.body.error)).toMatch(/^line 3: /);
    expect((await post('{"kind": nope}\n')).body.error).toMatch(/^line 1: not JSON/);
    expect((await store.info()).runs).toBe(before);
    const accepted = await post(`${good}\n`);
    expect(accepted).toMatchObject({ status: 200, body: { accepted: 1 } });
    expect((await store.info()).runs).toBe(before + 1);
    expect(collector.stats().rejected).toBe(2);
  });

  it('refuses a body past the size limit with 413', async () => {
    const small = await startCollector({ store, port: 0, render: () => '', maxBodyBytes: 1_000 });
    try {
      const res = await fetch(small.url + '/api/events', { method: 'POST', body: 'x'.repeat(5_000) });
      expect(res.status).toBe(413);
    } finally {
      await small.close();
    }
  });

  it('needs the token on every route', async () => {
    for (const path of ['/api/runs', '/metrics', '/healthz', '/api/stats']) {
      const res = await fetch(collector.url + path);
      expect(res.status, path).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="flowmeter"');
    }
    expect((await post('', {})).status).toBe(401);
    expect((await get('/api/runs', { authorization: 'Bearer wrong' })).status).toBe(401);
  });
});

/** Opens the WebSocket and collects its messages. */
function openSocket(url: string, options: WebSocket.ClientOptions = {}, protocols?: string[]): Promise<{ ws: WebSocket; messages: Record<string, unknown>[] }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, options);
    const messages: Record<string, unknown>[] = [];
    ws.on('message', (data: Buffer) => messages.push(JSON.parse(data.toString('utf8')) as Record<string, unknown>));
    ws.once('open', () => resolve({ ws, messages }));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode ?? 0}`)));
    ws.once('error', reject);
  });
}

const until = async (check: () => boolean, ms = 5_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('the live WebSocket', () => {
  const wsUrl = (): string => collector.url.replace('http', 'ws') + '/ws';

  it("pushes Union Square's metrics.update per application and overall, and run.finished as runs end", async () => {
    const { ws, messages } = await openSocket(wsUrl(), { headers: auth });
    try {
      await until(() => messages.some((m) => m.type === 'metrics.update' && m.application_id === null));
      const updates = messages.filter((m): m is MetricsUpdate & Record<string, unknown> => m.type === 'metrics.update');
      const overall = updates.find((u) => u.application_id === null)!;
      expect(Object.keys(overall).sort()).toEqual(['application_id', 'metrics', 'timestamp', 'type']);
      expect(Object.keys(overall.metrics).sort()).toEqual(['active_runs', 'active_sessions', 'cost_per_minute_usd', 'error_rate', 'p95_latency_ms', 'p99_latency_ms', 'requests_per_second', 'tokens_per_second']);
      // Six LLM calls in the last minute, none failed; $14 each ($1 × 10 + $2 × 2).
      expect(overall.metrics.requests_per_second).toBeCloseTo(6 / 60, 9);
      expect(overall.metrics.error_rate).toBe(0);
      expect(overall.metrics.tokens_per_second).toBeCloseTo((6 * 12) / 60, 9);
      expect(overall.metrics.cost_per_minute_usd).toBeCloseTo(6 * 14, 9);
      expect(overall.metrics.active_sessions).toBe(2);
      const web = updates.find((u) => u.application_id === 'web')!;
      expect(web.metrics.requests_per_second).toBeCloseTo(4 / 60, 9);
      expect(updates.some((u) => u.application_id === 'batch')).toBe(true);

      await makeRun('live', 'web', 1);
      await meter.flush();
      await until(() => messages.some((m) => m.type === 'run.finished'));
      const run = messages.find((m) => m.type === 'run.finished')!.run as RunEvent & { summary: string };
      expect(run.flow_id).toBe('live');
      expect(run.summary).toMatch(/^Execution time: /);
    } finally {
      ws.close();
    }
  });

  it('takes the token as a subprotocol or a query parameter, and refuses other origins and no token', async () => {
    const viaProtocol = await openSocket(wsUrl(), {}, [`bearer.${TOKEN}`]);
    expect(viaProtocol.ws.protocol).toBe(`bearer.${TOKEN}`);
    viaProtocol.ws.close();
    const viaQuery = await openSocket(`${wsUrl()}?token=${TOKEN}`);
    viaQuery.ws.close();
    await expect(openSocket(wsUrl())).rejects.toThrow('HTTP 401');
    await expect(openSocket(wsUrl(), { headers: { ...auth, origin: 'http://evil.example' } })).rejects.toThrow('HTTP 403');
    const sameOrigin = await openSocket(wsUrl(), { headers: { ...auth, origin: collector.url } });
    sameOrigin.ws.close();
  });
});
