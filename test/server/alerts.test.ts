import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { serve } from '../../src/cli/serve.js';
import { createMeter } from '../../src/meter/index.js';
import { AlertEngine, parseAlert } from '../../src/server/alerts.js';
import type { AlertNotification } from '../../src/server/alerts.js';
import type { MetricsServer } from '../../src/server/index.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { PRICED_MODEL, PRICES } from '../meter/fixtures.js';
import { capture } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'flowmeter-alerts-'));
const db = join(dir, 'flowmeter.db');
const received: AlertNotification[] = [];
let receiverUrl = '';
const receiver = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as AlertNotification);
    res.end('ok');
  });
});

beforeAll(async () => {
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  // Two flows: `cheap` runs cost $3, `costly` runs $30 ($1 per input token, $2 per output token).
  const meter = createMeter({ runsDir: join(dir, 'runs'), store: { path: db }, log: false, env: {}, prices: PRICES });
  for (let i = 0; i < 4; i++) {
    await meter.run({ flowId: 'cheap' }, () => meter.llmCall({ model: PRICED_MODEL }, (call) => call.usage({ inputTokens: 1, outputTokens: 1 })));
    await meter.run({ flowId: 'costly' }, () => meter.llmCall({ model: PRICED_MODEL }, (call) => call.usage({ inputTokens: 10, outputTokens: 10 })));
  }
  await meter.close();
});
afterAll(async () => {
  await new Promise<void>((resolve) => receiver.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

describe('alert rules', () => {
  it("parse the check language with a window and a grouping, and say what is wrong", () => {
    expect(parseAlert('p95(cost_usd) > 0.05 for 5m by flow')).toMatchObject({ text: 'p95(cost_usd) > 0.05 for 5m by flow', windowMs: 300_000, by: 'flow' });
    expect(parseAlert('error_rate > 10%')).toMatchObject({ text: 'error_rate > 10% for 5m', windowMs: 300_000, by: null });
    expect(parseAlert('p99(call_latency_ms) >= 8000 for 1h').windowMs).toBe(3_600_000);
    expect(() => parseAlert('p95(cost_usd) > 1 by colour')).toThrow('cannot group by colour');
    expect(() => parseAlert('p95(cost_usd) > 1 for 10s')).toThrow('at least 1m');
    expect(() => parseAlert('cost is high')).toThrow('is not a rule');
  });

  it('fire for the group that breaks them and resolve when it no longer does, notifying the webhook', async () => {
    const store = SqliteStore.open(db);
    let now = Date.now();
    try {
      const engine = new AlertEngine({ store, alerts: [parseAlert('p95(cost_usd) > 10 for 10m by flow')], webhook: receiverUrl, now: () => now });
      const fired = await engine.evaluate();
      expect(fired.map((n) => [n.status, n.group])).toEqual([['firing', 'costly']]);
      expect(fired[0]!.measured).toBeCloseTo(30, 0);
      expect(fired[0]!.text).toBe('[FIRING] p95(cost_usd) > 10 for 10m by flow flow=costly: measured 30, threshold 10');
      expect(engine.firing().map((f) => f.group)).toEqual(['costly']);
      // Still breaking: no second notification.
      expect(await engine.evaluate()).toEqual([]);
      // Twenty minutes on, nothing in the window: resolved.
      now += 20 * 60_000;
      const resolved = await engine.evaluate();
      expect(resolved.map((n) => [n.status, n.group, n.measured])).toEqual([['resolved', 'costly', null]]);
      expect(engine.firing()).toEqual([]);
      await engine.settled();
      expect(received.map((n) => n.status)).toEqual(['firing', 'resolved']);
      expect(received[0]).toMatchObject({ alert: 'p95(cost_usd) > 10 for 10m by flow', group: 'costly', by: 'flow', threshold: 10 });
      expect(typeof received[0]!.text).toBe('string');
      expect(engine.recent().map((n) => n.status)).toEqual(['resolved', 'firing']);
    } finally {
      await store.close();
    }
  });

  it('run in flowmeter serve: /api/alerts, the webhook and flowmeter_alerts_firing on /metrics', async () => {
    received.length = 0;
    const abort = new AbortController();
    let server: MetricsServer | undefined;
    const io = capture();
    const exit = serve({ port: 0, runsDir: join(dir, 'runs'), db: { path: db }, alert: ['sum(cost_usd) > 100 for 1h'], alertWebhook: receiverUrl, alertIntervalMs: 100, systemIntervalMs: 100 }, io, { signal: abort.signal, env: {}, onListening: (s) => (server = s) });
    try {
      const end = Date.now() + 10_000;
      while (received.length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
      expect(received.map((n) => [n.status, n.group])).toEqual([['firing', 'all']]);
      expect(received[0]!.measured).toBeCloseTo(4 * 3 + 4 * 30, 6);
      const alerts = (await (await fetch(`${server!.url}/api/alerts`)).json()) as { rules: string[]; firing: { group: string }[] };
      expect(alerts.rules).toEqual(['sum(cost_usd) > 100 for 1h']);
      expect(alerts.firing.map((f) => f.group)).toEqual(['all']);
      const metrics = await (await fetch(`${server!.url}/metrics`)).text();
      expect(metrics).toMatch(/^flowmeter_alerts_firing\{alert="[^"]+",group="all"\} 1$/m);
      // The server samples itself: on /metrics, /healthz and the WebSocket.
      expect(metrics).toMatch(/^flowmeter_process_resident_memory_bytes [1-9]/m);
      const health = (await (await fetch(`${server!.url}/healthz`)).json()) as { system: { rss_bytes: number } | null };
      expect(health.system?.rss_bytes).toBeGreaterThan(0);
      const ws = new WebSocket(`${server!.url.replace('http', 'ws')}/ws`);
      const system = await new Promise<Record<string, unknown>>((resolve, reject) => {
        ws.on('message', (data: Buffer) => {
          const m = JSON.parse(data.toString('utf8')) as Record<string, unknown>;
          if (m.type === 'system') resolve(m);
        });
        ws.on('error', reject);
      });
      ws.close();
      expect(Object.keys(system)).toEqual(expect.arrayContaining(['cpu_cores', 'rss_bytes', 'heap_used_bytes', 'event_loop_delay_p99_ms', 'gc_pause_ms', 'active_resources']));
    } finally {
      abort.abort();
      expect(await exit).toBe(0);
    }
  });

  it('refuse a bad rule or a bad webhook at start with one line', async () => {
    const io = capture();
    expect(await serve({ port: 0, runsDir: join(dir, 'runs'), db: { path: db }, alert: ['p95(cost) > 1'] }, io, { env: {} })).toBe(1);
    expect(io.stderr.join('\n')).toContain('unknown field cost');
    const io2 = capture();
    expect(await serve({ port: 0, runsDir: join(dir, 'runs'), db: { path: db }, alert: ['runs > 1'], alertWebhook: 'ftp://x' }, io2, { env: {} })).toBe(1);
    expect(io2.stderr.join('\n')).toContain('not an http(s) URL');
  });
});
