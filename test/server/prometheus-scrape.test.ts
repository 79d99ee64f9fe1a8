import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve } from '../../src/cli/serve.js';
import { createMeter } from '../../src/index.js';
import type { MetricsServer } from '../../src/server/index.js';
import { capture, freePort } from './helpers.js';
import { inCi } from './fixtures/pushgateway.js';

/**
 * The scraper that matters: a real Prometheus (Debian `prometheus`, installed by
 * scripts/ci-deps.sh) scrapes `flowmeter serve` with a bearer token, negotiates
 * OpenMetrics, and stores what it read. A second job without the token must be refused,
 * so the check can fail. Required in CI; skipped with the reason elsewhere.
 */
const hasPrometheus = spawnSync('prometheus', ['--version'], { stdio: 'ignore' }).status === 0;
const skip = !hasPrometheus && !inCi;
const TOKEN = 'scrape-token-42';

interface Target {
  readonly labels: { readonly job: string };
  readonly health: string;
  readonly lastError: string;
}

describe.skipIf(skip)(`a real Prometheus scraping flowmeter serve${skip ? ' (skipped: prometheus is not installed; run scripts/ci-deps.sh)' : ''}`, () => {
  let dir: string;
  let api: string;
  let prometheus: ChildProcess | undefined;
  let server: MetricsServer;
  const abort = new AbortController();
  let exit: Promise<number>;

  async function query<T>(path: string): Promise<T> {
    return ((await (await fetch(`${api}${path}`)).json()) as { data: T }).data;
  }

  beforeAll(async () => {
    if (!hasPrometheus) throw new Error('prometheus is not installed; CI installs it with scripts/ci-deps.sh');
    dir = mkdtempSync(join(tmpdir(), 'flowmeter-scrape-'));
    const runsDir = join(dir, 'runs');
    const meter = createMeter({ runsDir, log: false });
    for (let i = 0; i < 3; i++) await meter.runSettled({ flowId: 'scraped', agent: 'a' }, () => undefined);
    await meter.close();

    const listening = new Promise<MetricsServer>((resolve) => {
      exit = serve({ port: 0, runsDir, token: TOKEN }, capture(), { signal: abort.signal, onListening: resolve, env: {} });
    });
    server = await listening;
    const target = `['127.0.0.1:${server.port}']`;
    writeFileSync(
      join(dir, 'prometheus.yml'),
      [
        'global: { scrape_interval: 1s, scrape_timeout: 1s }',
        'scrape_configs:',
        `  - { job_name: with_token, authorization: { credentials: ${TOKEN} }, static_configs: [{ targets: ${target} }] }`,
        `  - { job_name: without_token, static_configs: [{ targets: ${target} }] }`,
        '',
      ].join('\n'),
    );
    const webPort = await freePort();
    api = `http://127.0.0.1:${webPort}`;
    prometheus = spawn(
      'prometheus',
      [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${webPort}`, '--log.level=error'],
      { stdio: 'ignore' },
    );
  }, 60_000);

  afterAll(async () => {
    if (prometheus !== undefined && prometheus.exitCode === null) {
      const exited = new Promise((resolve) => prometheus?.once('exit', resolve));
      prometheus.kill('SIGTERM');
      await exited;
    }
    abort.abort();
    await exit;
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  async function targets(): Promise<Target[]> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        const { activeTargets } = await query<{ activeTargets: Target[] }>('/api/v1/targets');
        if (activeTargets.length === 2 && activeTargets.every((t) => t.health !== 'unknown')) return activeTargets;
      } catch {
        // Prometheus is not listening yet.
      }
      if (Date.now() > deadline) throw new Error('Prometheus did not scrape both targets within 30 s');
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  it('scrapes it with the token, and is refused without it', async () => {
    const found = await targets();
    expect(found.find((t) => t.labels.job === 'with_token')).toMatchObject({ health: 'up', lastError: '' });
    const refused = found.find((t) => t.labels.job === 'without_token');
    expect(refused?.health).toBe('down');
    expect(refused?.lastError).toMatch(/401/);
  }, 40_000);

  it('stores the run counts it read', async () => {
    const { result } = await query<{ result: { value: [number, string] }[] }>(
      `/api/v1/query?query=${encodeURIComponent('sum(flowmeter_runs_finished_total{job="with_token",flow_id="scraped"})')}`,
    );
    expect(Number(result[0]?.value[1])).toBe(3);
  });
});
