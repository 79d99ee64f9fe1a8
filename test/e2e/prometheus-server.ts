import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../server/helpers.js';

/** One scrape job of the temporary Prometheus. */
export interface ScrapeJob {
  readonly name: string;
  /** `host:port` of a /metrics endpoint. */
  readonly target: string;
  /** Keep only the series whose metric name matches this regex (`metric_relabel_configs`, action keep). */
  readonly keep?: string;
}

export interface Sample {
  readonly metric: Readonly<Record<string, string>>;
  readonly value: readonly [number, string];
}

/** The body of `/api/v1/query`, as the Prometheus HTTP API documents it. */
export interface QueryAnswer {
  readonly status: 'success' | 'error';
  readonly data?: { readonly resultType: string; readonly result: readonly Sample[] };
  readonly errorType?: string;
  readonly error?: string;
}

interface Target {
  readonly labels: { readonly job: string };
  readonly health: string;
  readonly lastError: string;
}

export interface RunningPrometheus {
  /** `http://127.0.0.1:<port>` of its HTTP API. */
  readonly url: string;
  /** An instant query at the current time. */
  query(expr: string): Promise<QueryAnswer>;
  /** `/api/v1/label/<label>/values?match[]=<selector>`: what Grafana's `label_values(selector, label)` lists. */
  labelValues(label: string, selector: string): Promise<string[]>;
  /** Resolves once every job has been scraped successfully; rejects with the targets' errors after `timeoutMs`. */
  scraped(timeoutMs?: number): Promise<void>;
  /** SIGTERM, then SIGKILL if it has not exited within 5 s. A second call is harmless. */
  stop(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function getJson<T>(url: string): Promise<T> {
  const response = await fetch(url);
  return (await response.json()) as T;
}

/**
 * Starts the real `prometheus` binary (Debian package `prometheus`) on a free loopback port,
 * with its config and TSDB in `dir`, scraping `jobs` every second, as
 * test/export/prometheus/openmetrics-scrape.test.ts does. The config is written as JSON,
 * which is YAML, so regexes and addresses need no YAML quoting.
 */
export async function startPrometheus(dir: string, jobs: readonly ScrapeJob[]): Promise<RunningPrometheus> {
  const config = {
    global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
    scrape_configs: jobs.map((job) => ({
      job_name: job.name,
      static_configs: [{ targets: [job.target] }],
      ...(job.keep !== undefined && { metric_relabel_configs: [{ source_labels: ['__name__'], regex: job.keep, action: 'keep' }] }),
    })),
  };
  const file = join(dir, 'prometheus.yml');
  writeFileSync(file, JSON.stringify(config, null, 2));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(
    'prometheus',
    [`--config.file=${file}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=error'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-2000)));
  let gone = false;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      gone = true;
      resolve();
    });
    // Spawning failed (no binary): there is no process to wait for.
    child.once('error', (err) => {
      gone = true;
      stderr += String(err);
      resolve();
    });
  });
  const running = (): boolean => !gone;

  let stopping: Promise<void> | undefined;
  const prometheus: RunningPrometheus = {
    url,
    query: (expr) => getJson<QueryAnswer>(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`),
    async labelValues(label, selector) {
      const answer = await getJson<{ status: string; data: string[] }>(`${url}/api/v1/label/${label}/values?match[]=${encodeURIComponent(selector)}`);
      return answer.data;
    },
    async scraped(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      let last: readonly Target[] = [];
      while (Date.now() < deadline) {
        if (!running()) throw new Error(`prometheus exited: ${stderr.trim()}`);
        try {
          last = (await getJson<{ data: { activeTargets: Target[] } }>(`${url}/api/v1/targets`)).data.activeTargets;
          if (last.length === jobs.length && last.every((t) => t.health === 'up')) return;
        } catch {
          // Not listening yet.
        }
        await sleep(200);
      }
      const states = last.map((t) => `${t.labels.job}: ${t.health} ${t.lastError}`).join('; ');
      throw new Error(`Prometheus did not scrape every job within ${timeoutMs} ms (${states || 'no targets'}) ${stderr.trim()}`);
    },
    stop() {
      stopping ??= (async () => {
        if (!running()) return;
        child.kill('SIGTERM');
        const kill = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(kill);
      })();
      return stopping;
    },
  };
  return prometheus;
}
