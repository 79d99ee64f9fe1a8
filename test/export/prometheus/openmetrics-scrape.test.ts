import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrometheusView, contentType, negotiate, renderRegistry } from '../../../src/export/prometheus/index.js';
import type { ProfileName } from '../../../src/export/prometheus/index.js';
import { NASTY_VALUES, rawSource } from './fake-source.js';
import { twoRuns } from './fixtures.js';
import { installed, skipReason } from './tools.js';

/**
 * promtool only knows the 0.0.4 text format, so the OpenMetrics output is checked by the
 * parser that matters: a real Prometheus server (the Debian `prometheus` package that
 * provides promtool) scrapes every profile with OpenMetrics negotiated and ingests it with
 * its strict OpenMetrics parser. One target serves a deliberately broken exposition (no
 * `# EOF`), so this check demonstrably fails on bad output.
 */
const TARGETS: Record<string, () => string> = {
  default: () => exposition(['default']),
  arx: () => exposition(['arx']),
  enzu: () => exposition(['enzu']),
  all: () => exposition(['default', 'arx', 'enzu']),
  escaped: () => renderRegistry(rawSource(NASTY_VALUES, 'Back\\slash, "quoted"\nand a second line.'), 'openmetrics'),
  broken: () => exposition(['default']).replace(/# EOF\n$/, ''),
};

function exposition(profiles: readonly ProfileName[]): string {
  const view = new PrometheusView({ profiles });
  for (const event of twoRuns()) view.record(event);
  return view.render('openmetrics');
}

interface Target {
  readonly labels: { readonly job: string };
  readonly health: string;
  readonly lastError: string;
}

const reason = skipReason('prometheus');
const accepts: string[] = [];
let server: Server;
let prometheus: ChildProcess | undefined;
let dir: string;
let api: string;

async function listen(s: Server): Promise<number> {
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return (s.address() as AddressInfo).port;
}

async function freePort(): Promise<number> {
  const probe = createServer();
  const port = await listen(probe);
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

async function json<T>(path: string): Promise<T> {
  const response = await fetch(`${api}${path}`);
  return ((await response.json()) as { data: T }).data;
}

async function scrapedTargets(): Promise<Target[]> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const { activeTargets } = await json<{ activeTargets: Target[] }>('/api/v1/targets');
      if (activeTargets.length === Object.keys(TARGETS).length && activeTargets.every((t) => t.health !== 'unknown')) return activeTargets;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error('Prometheus did not scrape every target within 30 s');
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe.skipIf(reason !== null)('a real Prometheus scraping the OpenMetrics exposition', () => {
  let targets: Target[] = [];

  beforeAll(async () => {
    if (!installed('prometheus')) return;
    server = createServer((req, res) => {
      accepts.push(req.headers.accept ?? '');
      const body = TARGETS[(req.url ?? '').slice(1)];
      if (body === undefined) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': contentType('openmetrics') }).end(body());
    });
    const port = await listen(server);
    dir = mkdtempSync(join(tmpdir(), 'flowmeter-prom-'));
    const jobs = Object.keys(TARGETS).map(
      (name) => `  - job_name: ${name}\n    metrics_path: /${name}\n    static_configs: [{ targets: ['127.0.0.1:${port}'] }]\n`,
    );
    writeFileSync(join(dir, 'prometheus.yml'), `global: { scrape_interval: 1s, scrape_timeout: 1s }\nscrape_configs:\n${jobs.join('')}`);
    const webPort = await freePort();
    api = `http://127.0.0.1:${webPort}`;
    prometheus = spawn(
      'prometheus',
      [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${webPort}`, '--log.level=error'],
      { stdio: 'ignore' },
    );
    targets = await scrapedTargets();
  }, 60_000);

  afterAll(async () => {
    prometheus?.kill('SIGTERM');
    if (prometheus && prometheus.exitCode === null) await new Promise((resolve) => prometheus?.once('exit', resolve));
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('is installed (CI installs it with scripts/ci-deps.sh)', () => {
    expect(installed('prometheus'), 'prometheus is required in CI').toBe(true);
  });

  it('asks for OpenMetrics, and negotiate agrees', () => {
    expect(accepts.length).toBeGreaterThan(0);
    for (const accept of accepts) expect(negotiate(accept), accept).toBe('openmetrics');
  });

  it.each(['default', 'arx', 'enzu', 'all', 'escaped'])('ingests the %s exposition without a parse error', (job) => {
    const target = targets.find((t) => t.labels.job === job);
    expect(target?.lastError).toBe('');
    expect(target?.health).toBe('up');
  });

  it('rejects an exposition without # EOF, so the check above can fail', () => {
    const broken = targets.find((t) => t.labels.job === 'broken');
    expect(broken?.health).toBe('down');
    expect(broken?.lastError).toMatch(/EOF/);
  });

  it('stores every sample line and reads counters under their _total names', async () => {
    const text = TARGETS['all']!();
    const lines = text.split('\n').filter((line) => line !== '' && !line.startsWith('#')).length;
    const scraped = await json<{ result: { value: [number, string] }[] }>('/api/v1/query?query=scrape_samples_scraped%7Bjob%3D%22all%22%7D');
    expect(Number(scraped.result[0]?.value[1])).toBe(lines);
    const started = await json<{ result: { value: [number, string] }[] }>('/api/v1/query?query=flowmeter_runs_started_total%7Bjob%3D%22default%22%7D');
    expect(Number(started.result[0]?.value[1])).toBe(2);
  });
});

if (reason !== null) {
  describe('a real Prometheus scraping the OpenMetrics exposition', () => {
    it.skip(`is skipped: ${reason}`, () => undefined);
  });
}
