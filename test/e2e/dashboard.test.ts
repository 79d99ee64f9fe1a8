import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMeter } from '../../src/meter/index.js';
import type { Meter } from '../../src/meter/index.js';
import { startCollector } from '../../src/server/index.js';
import type { Collector } from '../../src/server/index.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { SystemMetrics } from '../../src/export/system-metrics.js';
import { Registry } from '../../src/recorder/index.js';
import { PRICED_MODEL, PRICES } from '../meter/fixtures.js';

/*
 * The dashboard in a real browser (Debian's Chromium through playwright-core) against a
 * collector filled by real runs. Screenshots go to test-results/dashboard/.
 */
const root = fileURLToPath(new URL('../..', import.meta.url));
const CHROMIUM = '/usr/bin/chromium';
const built = existsSync(join(root, 'dist/web/index.html'));
const shots = join(root, 'test-results/dashboard');
const TOKEN = 'dashboard-secret';

const dir = mkdtempSync(join(tmpdir(), 'flowmeter-dashboard-'));
let store: SqliteStore;
let collector: Collector;
let meter: Meter;
let browser: BrowserContext;
let page: Page;
let parentRunId = '';
let system: SystemMetrics | undefined;

/** One attribute of every element a selector matches, in page order. */
async function attrs(p: Page, selector: string, name: string): Promise<(string | null)[]> {
  const all = p.locator(selector);
  const out: (string | null)[] = [];
  for (let i = 0, n = await all.count(); i < n; i++) out.push(await all.nth(i).getAttribute(name));
  return out;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function api<T>(path: string): Promise<T> {
  const res = await fetch(collector.url + path, { headers: { authorization: `Bearer ${TOKEN}` } });
  return (await res.json()) as T;
}

/** A run like an agent's: a step with a streamed LLM call, a tool call, sometimes a failure, sometimes a sub-agent. */
async function agentRun(flowId: string, i: number): Promise<string> {
  let id = '';
  await meter
    .run({ flowId, agent: i % 2 === 0 ? 'concierge' : 'researcher', appId: 'web' }, async (run) => {
      id = run.id;
      await run.step('plan', () =>
        meter.llmCall({ model: i % 3 === 0 ? 'gpt-4o-mini' : PRICED_MODEL, provider: 'openai', streaming: true }, async (call) => {
          await sleep(8);
          call.firstToken();
          await sleep(12);
          call.usage({ inputTokens: 20 + i, outputTokens: 5 + i });
        }),
      );
      if (i === 5) run.retry('rate_limit', 0.01, { stepId: 'plan' });
      await run.toolCall('search', () => (i % 4 === 3 ? Promise.reject(new Error('index offline')) : sleep(5))).catch(() => undefined);
      if (i % 5 === 0) await meter.run({ flowId: 'worker', agent: 'worker' }, () => meter.llmCall({ model: PRICED_MODEL }, (call) => call.usage({ inputTokens: 3, outputTokens: 1 })));
      if (i % 4 === 3) throw new Error('could not answer');
    })
    .catch(() => undefined);
  return id;
}

beforeAll(async () => {
  if (!built) return;
  store = SqliteStore.open(join(dir, 'dashboard.db'));
  collector = await startCollector({ store, port: 0, token: TOKEN, render: () => '', tickMs: 250 });
  system = new SystemMetrics(new Registry(), { intervalMs: 500, onSample: (sample) => collector.broadcast({ type: 'system', ...sample }) });
  meter = createMeter({ runsDir: false, store: false, log: false, env: {}, prices: PRICES, collector: { url: collector.url, token: TOKEN } });
  for (let i = 0; i < 12; i++) {
    const id = await agentRun(i % 3 === 0 ? 'billing' : 'support', i);
    if (i === 5) parentRunId = id;
  }
  await meter.flush();
  mkdirSync(shots, { recursive: true });
  // A fresh profile each run (playwright passes it to Chromium as --user-data-dir).
  browser = await chromium.launchPersistentContext(join(dir, 'chromium'), {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    viewport: { width: 1280, height: 800 },
  });
  page = await browser.newPage();
  await page.goto(`${collector.url}/#token=${TOKEN}`);
}, 60_000);

afterAll(async () => {
  system?.stop();
  await browser?.close();
  await meter?.close();
  await collector?.close();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!built || !existsSync(CHROMIUM))('the dashboard in Chromium', () => {
  it('shows the overview with the API’s numbers, its charts and live figures', async () => {
    await page.waitForSelector('main[data-loaded="overview"]', { timeout: 15_000 });
    const stats = await api<{ groups: { runs: number; success_rate: number; outcomes: Record<string, number>; calls: { requests: number } }[] }>('/api/stats?since=1h');
    const g = stats.groups[0]!;
    expect(await page.textContent('#window [data-tile="runs"]')).toBe(String(g.runs));
    expect(await page.textContent('#window [data-tile="success_rate"]')).toBe(`${(g.success_rate * 100).toFixed(1)}%`);
    expect(await page.textContent('#window [data-tile="calls"]')).toBe(String(g.calls.requests));
    const keys = await attrs(page, '#outcomes span', 'data-outcome');
    const counts = await attrs(page, '#outcomes span', 'data-count');
    const segments: Record<string, number> = Object.fromEntries(keys.map((k, i): [string, number] => [k ?? '', Number(counts[i])]));
    expect(segments).toEqual(g.outcomes);
    // Eight uPlot charts, each with data.
    expect(await page.locator('.chart canvas').count()).toBe(8);
    expect(Number(await page.getAttribute('#c-runs', 'data-points'))).toBeGreaterThan(0);
    expect(Number(await page.getAttribute('#c-latency', 'data-lines'))).toBe(3);
    // The WebSocket fills the live tiles.
    await page.waitForFunction("document.querySelector('#live-status')?.textContent === 'live'");
    await page.waitForFunction(`document.querySelector('#now [data-tile="requests_per_second"]')?.textContent !== '—'`);
    expect(Number(await page.textContent('#now [data-tile="requests_per_second"]'))).toBeGreaterThan(0);
    // The server's own samples arrive on the same stream.
    await page.waitForFunction(`/MB$/.test(document.querySelector('#system [data-tile="rss_bytes"]')?.textContent ?? '')`);
    expect(await page.textContent('#system [data-tile="cpu_cores"]')).toMatch(/^\d+% of a core$/);
    await page.screenshot({ path: join(shots, 'overview.png'), fullPage: true });
  });

  it('lists the runs the API lists, and a new run appears live', async () => {
    await page.goto(`${collector.url}/#/runs`);
    await page.waitForSelector('main[data-loaded="runs"]');
    const listed = await api<{ runs: { run_id: string }[] }>('/api/runs?limit=50');
    expect(await attrs(page, 'tbody tr', 'data-run')).toEqual(listed.runs.map((r) => r.run_id));
    // A mark in the page: a reload would clear it.
    await page.evaluate('window.__stillTheSamePage = true');
    const id = await agentRun('live-flow', 1);
    await meter.flush();
    // It arrives on the stream (or, had the stream dropped, from the list read again on reconnect): no reload.
    await page.waitForSelector(`tr[data-run="${id}"]`, { timeout: 15_000 });
    expect(await page.evaluate('window.__stillTheSamePage === true')).toBe(true);
    expect(await page.textContent(`tr[data-run="${id}"] td:nth-child(3)`)).toBe('live-flow');
    await page.screenshot({ path: join(shots, 'runs.png') });
  });

  it("draws a run's timeline: its step, calls (failures marked, time to first token inside the streamed call) and child runs", async () => {
    await page.goto(`${collector.url}/#/runs/${parentRunId}`);
    await page.waitForSelector('main[data-loaded="run"]');
    const detail = await api<{ run: { summary: string }; steps: unknown[]; calls: { kind: string; success: boolean }[]; retries: unknown[]; children: { run_id: string }[] }>(`/api/runs/${parentRunId}`);
    expect(await page.locator('#gantt .gbar').count()).toBe(detail.steps.length + detail.calls.length);
    expect(await page.locator('#gantt .gbar[data-kind="llm"] .ttft').count()).toBe(1);
    expect(detail.retries.length).toBe(1);
    expect(await page.locator('#gantt .retry').count()).toBe(1);
    expect(await page.locator('#gantt .gbar.failed').count()).toBe(detail.calls.filter((c) => !c.success).length);
    expect(await page.textContent('#summary')).toBe(detail.run.summary);
    expect(await page.textContent('main h1')).toBe(`Run ${parentRunId}`);
    expect(await page.isVisible('main h1')).toBe(true);
    expect(await attrs(page, '#children a', 'href')).toEqual(detail.children.map((c) => `#/runs/${c.run_id}`));
    await page.screenshot({ path: join(shots, 'run.png'), fullPage: true });
  });

  it('shows models and agents with the API’s call counts', async () => {
    await page.goto(`${collector.url}/#/models?range=1h`);
    await page.waitForSelector('main[data-loaded="models"]');
    const byModel = await api<{ groups: { group: string; calls: { requests: number } }[] }>('/api/stats?since=1h&by=model');
    for (const g of byModel.groups.filter((x) => x.calls.requests > 0)) {
      expect(await page.textContent(`#by-model tr[data-group="${g.group}"] td:nth-child(2)`)).toBe(String(g.calls.requests));
    }
    await page.goto(`${collector.url}/#/alerts`);
    await page.waitForSelector('main[data-loaded="alerts"]');
    expect(await page.textContent('#none-firing')).toBe('Nothing is firing.');
  });

  it('asks for the token when it has none or a wrong one', async () => {
    const other = await browser.newPage();
    try {
      await other.goto(`${collector.url}/#token=wrong`);
      await other.waitForSelector('main[data-loaded="login"]', { timeout: 10_000 });
      expect(await other.isVisible('form#login input[type="password"]')).toBe(true);
      expect(await other.textContent('form#login .error')).toBe('That token was not accepted.');
      await other.screenshot({ path: join(shots, 'login.png') });
    } finally {
      await other.close();
    }
  });

  it('is usable in the dark scheme', async () => {
    const dark = await browser.newPage();
    await dark.emulateMedia({ colorScheme: 'dark' });
    try {
      await dark.goto(`${collector.url}/#token=${TOKEN}`);
      await dark.waitForSelector('main[data-loaded="overview"]', { timeout: 15_000 });
      const background = await dark.evaluate('getComputedStyle(document.body).backgroundColor');
      expect(background).toBe('rgb(18, 21, 28)');
      await dark.screenshot({ path: join(shots, 'overview-dark.png'), fullPage: true });
    } finally {
      await dark.close();
    }
  });
});
