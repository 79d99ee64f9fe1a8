import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { PrometheusView, parseProfiles } from '../export/prometheus/index.js';
import type { ProfileName } from '../export/prometheus/index.js';
import { dirname, join } from 'node:path';
import { MetricsServerError, RunsTailer, ServeConfigError, resolveServeSettings, startCollector } from '../server/index.js';
import type { Collector, Env, MetricsServer } from '../server/index.js';
import type { StoreSetting } from '../store/open.js';
import type { Store } from '../store/store.js';
import { chooseDb, dbOption, openForCli, storeExists } from './db.js';
import { AlertEngine, parseAlert } from '../server/alerts.js';
import { SystemMetrics } from '../export/system-metrics.js';
import type { CliIo } from './io.js';
import { UserError } from './io.js';

export const DEFAULT_RUNS_DIR = '.flowmeter/runs';
export const DEFAULT_POLL_MS = 1000;

export interface ServeCommandOptions {
  readonly port?: number;
  readonly addr?: string;
  readonly token?: string;
  readonly tokenFile?: string;
  /** `default`, `arx`, `enzu`, or a comma list; default `default`. */
  readonly profile?: string | readonly ProfileName[];
  /** Default FLOWMETER_RUNS_DIR, else `.flowmeter/runs`. */
  readonly runsDir?: string;
  readonly pollMs?: number;
  /** Alert rules (`p95(cost_usd) > 0.05 for 5m by flow`), evaluated over the store. */
  readonly alert?: readonly string[];
  /** Where alert notifications are POSTed. */
  readonly alertWebhook?: string;
  readonly alertIntervalMs?: number;
  /** How often the process is sampled (CPU, memory, event loop, GC, handles); default 10,000 ms. */
  readonly systemIntervalMs?: number;
  /** The store the API reads and ingest writes: `--db`, else FLOWMETER_DB, else `flowmeter.db` beside the runs folder when it exists. */
  readonly db?: StoreSetting;
}

export interface ServeControl {
  /** Stops the server; without it SIGINT and SIGTERM do. */
  readonly signal?: AbortSignal;
  readonly onListening?: (server: MetricsServer) => void;
  /** Where FLOWMETER_* and AR_* come from; default `process.env`. */
  readonly env?: Env;
}

/** Lines of events.jsonl files that were not events: a self-metric, so it can be alerted on. */
const MALFORMED_METRIC = 'flowmeter_serve_malformed_lines_total';

export function profilesOf(spec: string | readonly ProfileName[] | undefined): ProfileName[] {
  try {
    return typeof spec === 'string' ? parseProfiles(spec) : parseProfiles((spec ?? ['default']).join(','));
  } catch (err) {
    throw new UserError(err instanceof Error ? err.message : String(err));
  }
}

function oneLine(err: unknown): string {
  return ((err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '').trim();
}

/** Resolves on the abort signal, or else on SIGINT/SIGTERM; removes its handlers either way. */
function untilStopped(signal: AbortSignal | undefined): Promise<void> {
  if (signal !== undefined) {
    return signal.aborted ? Promise.resolve() : new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  }
  return new Promise((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/**
 * `flowmeter serve`: /metrics for the runs in a runs folder. Agents in other processes
 * write `<run>/events.jsonl`; this tails every one of them into a PrometheusView. Counters
 * start from the folder's history, as after an exporter restart (`rate()` handles that).
 * Returns the exit code: 0 after a clean stop, 1 with one stderr line on a user error.
 */
export async function serve(options: ServeCommandOptions, io: CliIo, control: ServeControl = {}): Promise<number> {
  const env = control.env ?? process.env;
  let server: Collector | undefined;
  let tailer: RunsTailer | undefined;
  let store: Store | undefined;
  let system: SystemMetrics | undefined;
  try {
    const settings = resolveServeSettings(options, env);
    for (const warning of settings.warnings) io.err(`flowmeter: warning: ${warning}`);
    if (!settings.enabled) {
      // Exit 1, not 0: the one thing asked cannot be done, and a supervisor should show that.
      throw new UserError(`metrics are disabled (${settings.disabledBy ?? 'FLOWMETER_ENABLE_METRICS=0'}); unset it or set it to 1 to serve /metrics`);
    }
    const profiles = profilesOf(options.profile);
    const runsDir = options.runsDir ?? env.FLOWMETER_RUNS_DIR ?? DEFAULT_RUNS_DIR;
    const choice = chooseDb(options.db, env);
    // Without --db or FLOWMETER_DB, the store the meters beside this runs folder write by default.
    const setting: StoreSetting = choice.explicit ? choice.setting : { path: join(dirname(runsDir), 'flowmeter.db') };
    if (setting !== false && (choice.explicit || storeExists(setting))) store = await openForCli(setting);
    const view = new PrometheusView({ profiles });
    let alerts: AlertEngine | undefined;
    if ((options.alert ?? []).length > 0) {
      if (store === undefined) throw new UserError('--alert evaluates rules over the store, and there is none (pass --db)');
      let rules;
      try {
        rules = (options.alert ?? []).map(parseAlert);
      } catch (err) {
        throw new UserError(err instanceof Error ? err.message : String(err));
      }
      if (options.alertWebhook !== undefined && !/^https?:\/\//.test(options.alertWebhook)) throw new UserError(`--alert-webhook ${options.alertWebhook}: not an http(s) URL`);
      alerts = new AlertEngine({ store, alerts: rules, registry: view.registry, ...(options.alertWebhook === undefined ? {} : { webhook: options.alertWebhook }), onError: (err) => io.err(`flowmeter: warning: ${oneLine(err)}`) });
    }
    system = new SystemMetrics(view.registry, { intervalMs: options.systemIntervalMs ?? 10_000, onSample: (sample) => server?.broadcast({ type: 'system', ...sample }) });
    const malformed = view.registry.counter({ name: MALFORMED_METRIC, help: 'Lines of events.jsonl files that were not events, skipped.', labelNames: [] }).labels();
    const runs = new RunsTailer({
      runsDir,
      pollMs: options.pollMs ?? DEFAULT_POLL_MS,
      onEvent: (event) => {
        view.record(event);
        server?.observe([event]);
      },
      // A run killed inside its steps never ends them: once it has stopped writing, they leave the in-flight gauges.
      onStale: (stale) => view.abandonSteps(stale.flowId, stale.steps),
      onError: (err) => io.err(`flowmeter: warning: ${oneLine(err)}`),
    });
    tailer = runs;
    // Scrapes wait for the first pass over the folder: a scrape halfway through it would
    // show history arriving as a burst of increases that never happened at that time.
    const ready = runs.start();
    let isReady = false;
    void ready.then(() => (isReady = true));
    const existed = existsSync(runsDir);
    server = await startCollector({
      port: settings.port,
      addr: settings.addr,
      token: settings.token,
      ...(store === undefined ? {} : { store }),
      ...(alerts === undefined ? {} : { alerts, alertIntervalMs: options.alertIntervalMs ?? 5_000 }),
      onEvents: (events) => {
        for (const event of events) view.record(event);
      },
      render: async (format) => {
        await ready;
        const seen = runs.stats().malformed;
        if (seen > malformed.value) malformed.inc(seen - malformed.value);
        return view.renderAsync(format);
      },
      health: () => {
        const s = runs.stats();
        return { ready: isReady, system: system?.latest ?? null, runs_dir: runsDir, files: s.files, events: s.events, malformed_lines: s.malformed, rejected_events: view.rejectedEvents };
      },
    });
    const notes = [`profiles: ${profiles.join(',')}`, `runs: ${runsDir}${existed ? '' : ', not created yet'}`, `store: ${store?.location ?? 'none (the API and ingest need one: --db)'}`];
    if (settings.token !== undefined) notes.push('bearer token required');
    io.out(`flowmeter: serving /metrics, /api and /ws on ${server.url} (${notes.join('; ')})`);
    control.onListening?.(server);
    await untilStopped(control.signal);
    return 0;
  } catch (err) {
    if (err instanceof UserError || err instanceof ServeConfigError || err instanceof MetricsServerError) {
      io.err(`flowmeter: ${err.message}`);
      return 1;
    }
    throw err;
  } finally {
    system?.stop();
    await server?.close();
    await tailer?.close();
    await store?.close();
  }
}

function portArg(value: string): number {
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) throw new InvalidArgumentError('must be a port, an integer from 0 to 65535 (0 picks a free one)');
  return Number(value);
}

export function positiveIntArg(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

export function profileArg(value: string): string {
  try {
    parseProfiles(value);
  } catch (err) {
    throw new InvalidArgumentError(oneLine(err));
  }
  return value;
}

export function registerServe(cli: Command, io: CliIo, setCode: (code: number) => void): void {
  cli
    .command('serve')
    .description('the collector: /metrics (Prometheus text or OpenMetrics) and /healthz for the runs in a runs folder, the REST API over the store, NDJSON ingest (POST /api/events) and a live WebSocket (/ws)')
    .option('--port <port>', 'port to listen on; 0 picks a free one (default 9108; env FLOWMETER_METRICS_PORT, AR_METRICS_PORT)', portArg)
    .option('--addr <addr>', 'address to bind (default 127.0.0.1; env FLOWMETER_METRICS_ADDR, AR_METRICS_ADDR)')
    .option('--token <token>', 'require Authorization: Bearer <token> (shows in ps: prefer env FLOWMETER_TOKEN or --token-file)')
    .option('--token-file <path>', 'read the bearer token from a file (env FLOWMETER_TOKEN_FILE)')
    .option('--profile <names>', 'metric names: default, arx, enzu, or a comma list', profileArg, 'default')
    .option('--runs-dir <dir>', `runs folder (default ${DEFAULT_RUNS_DIR}; env FLOWMETER_RUNS_DIR)`)
    .option('--poll-ms <ms>', 'how often to look for new runs and lines', positiveIntArg, DEFAULT_POLL_MS)
    .option('--alert <rule>', 'alert when a rule holds, e.g. "p95(cost_usd) > 0.05 for 5m by flow" (repeatable; the language of flowmeter check)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--alert-webhook <url>', 'POST firing and resolved alerts here (JSON with a Slack-compatible text field)')
    .option('--alert-interval-ms <ms>', 'how often alert rules are evaluated', positiveIntArg, 5_000)
    .option('--system-interval-ms <ms>', 'how often the server samples its CPU, memory, event loop, GC and handles', positiveIntArg, 10_000)
    .option('--db <store>', `the store the API reads and POST /api/events writes (default: FLOWMETER_DB, else flowmeter.db beside the runs folder when it exists)`, dbOption)
    .action(async (opts: ServeCommandOptions) => setCode(await serve(opts, io)));
}
