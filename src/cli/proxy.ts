import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { MeterConfigError, createMeter } from '../meter/index.js';
import type { Meter } from '../meter/index.js';
import { PricingConfigError } from '../pricing/index.js';
import { ProxyConfigError, createProxy, parseBudget, parseUpstream, DEFAULT_PROXY_PORT, DEFAULT_RUN_IDLE_MS, DEFAULT_MAX_BODY_BYTES } from '../proxy/index.js';
import type { MeteringProxy, ProxyServer } from '../proxy/index.js';
import { ServeConfigError, resolveServeSettings } from '../server/index.js';
import { parseStoreSetting } from '../store/open.js';
import type { StoreSetting } from '../store/open.js';
import { StoreError } from '../store/store.js';
import { checkPort } from '../server/serve-settings.js';
import type { Env } from '../server/index.js';
import { DB_HELP, dbOption } from './db.js';
import type { CliIo } from './io.js';
import { UserError } from './io.js';
import { DEFAULT_RUNS_DIR, positiveIntArg, profileArg, profilesOf } from './serve.js';

export interface ProxyCommandOptions {
  readonly port?: number;
  readonly addr?: string;
  readonly token?: string;
  /** `name=url` (append `#anthropic` for a Messages-speaking upstream of another name). */
  readonly upstream?: readonly string[];
  readonly budget?: readonly string[];
  /** A runs folder, or false for no run files. */
  readonly runsDir?: string | boolean;
  readonly profile?: string;
  readonly maxBody?: number;
  readonly runIdleMs?: number;
  /** A SQLite path, a postgres:// URL, "off", or the parsed setting. */
  readonly db?: string | StoreSetting;
}

export interface ProxyControl {
  /** Stops the proxy; without it SIGINT and SIGTERM do. */
  readonly signal?: AbortSignal;
  readonly onListening?: (server: ProxyServer, proxy: MeteringProxy) => void;
  readonly env?: Env;
}

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

function proxyPort(given: number | undefined, env: Env): number {
  if (given !== undefined) return given;
  const raw = env.FLOWMETER_PROXY_PORT?.trim();
  if (raw === undefined || raw === '') return DEFAULT_PROXY_PORT;
  if (!/^\d{1,5}$/.test(raw)) throw new ServeConfigError(`FLOWMETER_PROXY_PORT=${raw} is not a port; use an integer from 0 to 65535`);
  return checkPort(Number(raw), 'FLOWMETER_PROXY_PORT');
}

/**
 * `flowmeter proxy`: the metering proxy on one port, with its own /metrics and /healthz.
 * Bind address and token follow `flowmeter serve` (--addr / FLOWMETER_METRICS_ADDR,
 * --token / FLOWMETER_TOKEN). Returns the exit code: 0 after a clean stop, 1 with one
 * stderr line on a user error.
 */
export async function proxy(options: ProxyCommandOptions, io: CliIo, control: ProxyControl = {}): Promise<number> {
  const env = control.env ?? process.env;
  let meter: Meter | undefined;
  let server: ProxyServer | undefined;
  let metering: MeteringProxy | undefined;
  try {
    const settings = resolveServeSettings({ port: proxyPort(options.port, env), addr: options.addr, token: options.token }, env);
    const upstreams = (options.upstream ?? []).map(parseUpstream);
    const budgets = (options.budget ?? []).map(parseBudget);
    const store = typeof options.db === 'string' ? parseStoreSetting(options.db) : options.db;
    meter = createMeter({
      env,
      // Commander sets `true` for "neither --runs-dir nor --no-runs-dir".
      runsDir: options.runsDir === false ? false : typeof options.runsDir === 'string' ? options.runsDir : (env.FLOWMETER_RUNS_DIR ?? DEFAULT_RUNS_DIR),
      // Every proxied call is a run of its own: its folder is written off the event loop, so the disk never holds up other calls.
      fileWriter: 'thread',
      // Its store rows are built and committed there too: a SQLite transaction holds the loop while it commits.
      storeWriter: 'thread',
      prometheus: { profiles: profilesOf(options.profile) },
      ...(store !== undefined && { store }),
    });
    // A store named on the command line that cannot be opened is a mistake to fix now; once
    // running, a store that goes down only delays its rows (they wait, then are counted).
    if (store !== undefined && store !== false) await meter.ready();
    metering = createProxy({ meter, upstreams, budgets, token: settings.token, maxBodyBytes: options.maxBody, runIdleMs: options.runIdleMs });
    server = await metering.listen({ port: settings.port, addr: settings.addr });
    const routes = [...new Set(['openai', 'anthropic', ...upstreams.map((u) => u.name)])].map((n) => `/${n}/`).join(' ');
    const notes = [`routes: ${routes}`];
    if (budgets.length > 0) notes.push(`${budgets.length} budget${budgets.length === 1 ? '' : 's'}`);
    if (settings.token !== undefined) notes.push('token required');
    if (!meter.enabled) notes.push(`metering off (${settings.disabledBy ?? 'FLOWMETER_ENABLE_METRICS=0'}): traffic passes unmeasured`);
    io.out(`flowmeter: proxy on ${server.url} (${notes.join('; ')}); /metrics and /healthz on the same port`);
    control.onListening?.(server, metering);
    await untilStopped(control.signal);
    return 0;
  } catch (err) {
    if (err instanceof UserError || err instanceof StoreError || err instanceof ServeConfigError || err instanceof ProxyConfigError || err instanceof MeterConfigError || err instanceof PricingConfigError) {
      io.err(`flowmeter: ${err.message}`);
      return 1;
    }
    throw err;
  } finally {
    await server?.close();
    await metering?.close();
    await meter?.close();
  }
}

function portArg(value: string): number {
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) throw new InvalidArgumentError('must be a port, an integer from 0 to 65535 (0 picks a free one)');
  return Number(value);
}

function collect(check: (value: string) => unknown) {
  return (value: string, previous: string[] | undefined): string[] => {
    try {
      check(value);
    } catch (err) {
      throw new InvalidArgumentError(err instanceof Error ? err.message : String(err));
    }
    return [...(previous ?? []), value];
  };
}

export function registerProxy(cli: Command, io: CliIo, setCode: (code: number) => void): void {
  cli
    .command('proxy')
    .description('meter every OpenAI/Anthropic call of any app: point its base URL at http://127.0.0.1:8787/openai/v1 or /anthropic')
    .option('--port <port>', `port to listen on; 0 picks a free one (default ${DEFAULT_PROXY_PORT}; env FLOWMETER_PROXY_PORT)`, portArg)
    .option('--addr <addr>', 'address to bind (default 127.0.0.1; env FLOWMETER_METRICS_ADDR)')
    .option('--upstream <name=url>', 'an upstream, repeatable: openai=https://api.openai.com, vllm=http://gpu:8000, claude=https://…#anthropic', collect(parseUpstream))
    .option('--budget <rule>', "a budget, repeatable: 'app=* cost_usd_per_day<=5', 'user=* tokens_per_hour<=100000', 'run=* cost_usd<=1'", collect(parseBudget))
    .option('--token <token>', 'require x-flowmeter-token on proxied requests and Authorization: Bearer on /metrics (env FLOWMETER_TOKEN)')
    .option('--runs-dir <dir>', `runs folder (default ${DEFAULT_RUNS_DIR}; env FLOWMETER_RUNS_DIR)`)
    .option('--no-runs-dir', 'write no run files')
    .option('--profile <names>', 'metric names: default, arx, enzu, or a comma list', profileArg, 'default')
    .option('--max-body <bytes>', `largest metered request body (default ${DEFAULT_MAX_BODY_BYTES})`, positiveIntArg)
    .option('--run-idle-ms <ms>', `a run named by x-flowmeter-run-id ends after this long without calls (default ${DEFAULT_RUN_IDLE_MS})`, positiveIntArg)
    .option('--db <store>', DB_HELP, dbOption)
    .action(async (opts: ProxyCommandOptions) => setCode(await proxy(opts, io)));
}
