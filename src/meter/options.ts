import type { ExecMode } from '../model/index.js';
import type { ProfileName } from '../export/prometheus/index.js';
import { parseProfiles } from '../export/prometheus/index.js';
import { dirname, join } from 'node:path';
import type { LogDestination, Sink } from '../sinks/index.js';
import type { StoreSetting } from '../store/open.js';
import { parseStoreSetting } from '../store/open.js';
import { checkPolicy, parseRetention } from '../store/retention.js';
import type { RetentionPolicy } from '../store/retention.js';
import type { WarningHandler } from './diagnostics.js';
import type { RunFinish } from './run-types.js';
import { MeterConfigError } from './errors.js';
import type { Budget } from './run-state.js';

export interface LogOptions {
  /** `logfmt` (grep-able, the default) or `json` (pino). */
  readonly format?: 'logfmt' | 'json';
  readonly destination?: LogDestination;
}

/** Run identity used when `meter.run` does not say otherwise. */
export interface RunDefaults {
  readonly flowId?: string;
  readonly agent?: string;
  readonly execMode?: ExecMode;
  readonly branch?: string;
  readonly provider?: string;
  readonly model?: string;
}

export interface MeterOptions {
  /** Called with every run's RunEvent and summary as the run ends (see `meter.onRunEnd`). */
  readonly onRunEnd?: (finish: RunFinish) => void;
  /** Off costs next to nothing. Default: on, unless FLOWMETER_ENABLE_METRICS (or ARX's AR_ENABLE_METRICS) says 0. */
  readonly enabled?: boolean;
  /** Where `<run_id>/metrics.jsonl` goes; `false` writes no files. Default `.flowmeter/runs` (FLOWMETER_RUNS_DIR). */
  readonly runsDir?: string | false;
  /** Also keep every event of a run in `<run_id>/events.jsonl` (the audit trail `flowmeter serve` reads). Default true when runsDir is set. */
  readonly eventLog?: boolean;
  /**
   * Where the run folders are written. `sync` (default): on the event loop as each batch
   * arrives, so a run's files are complete when `run()` resolves or `flowEnd()` returns.
   * `thread`: on a worker thread, for servers that end many runs a second (`flowmeter
   * proxy`): the event loop never waits for the disk. The files are the same; `run()`,
   * `flush()` and `close()` still resolve once they are written, and a normal exit waits
   * for them. `flowEnd()` and `onRunEnd` listeners may see a run whose files are still being written.
   */
  readonly fileWriter?: 'sync' | 'thread';
  /**
   * Where store rows are built and committed. `sync` (default): on the event loop, in a
   * transaction every 20 ms (SQLite commits synchronously, about 10 µs per call). `thread`:
   * on a worker thread, for servers that end many runs a second (`flowmeter proxy`): the
   * event loop only copies each turn's events to the thread. Rows, sampling under overload,
   * retries, retention, warnings and `diagnostics().store` are the same; `flush()` and
   * `close()` still resolve once the rows are committed, and a normal exit waits for them
   * (up to `flushTimeoutMs`). The thread costs a second SQLite connection and a copy of
   * every event; a process that ends a few runs a minute gains nothing from it.
   */
  readonly storeWriter?: 'sync' | 'thread';
  /** Structured logs (tier 3); `false` for none. Default logfmt to stderr (FLOWMETER_LOG_FORMAT, FLOWMETER_LOG_FILE). */
  readonly log?: LogOptions | false;
  /**
   * The in-process Prometheus view (hot path): which profiles to keep (`default`, `arx`,
   * `enzu`), read with `meter.metrics()`, served by `meter.serve()`. `false` for none.
   * Default `{ profiles: ['default'] }` (FLOWMETER_PROFILE, e.g. `default,arx`).
   */
  readonly prometheus?: { readonly profiles?: readonly ProfileName[]; readonly maxSeriesPerMetric?: number } | false;
  /**
   * Push this meter's metrics to a Prometheus Pushgateway when it closes (a batch's end),
   * grouped by `job` and, when given, `flowId`. `meter.push()` pushes at any time.
   */
  readonly pushgateway?: { readonly url: string; readonly job?: string; readonly flowId?: string; readonly token?: string };
  /**
   * The store every run and call is written to: a SQLite file (`{ path }`), a PostgreSQL
   * URL (`{ url }`), or `false`. Default: `flowmeter.db` beside the runs folder
   * (`.flowmeter/flowmeter.db`), or FLOWMETER_DB (`path.db`, `postgres://…`, `off`);
   * none when `runsDir` is false and neither says otherwise.
   */
  readonly store?: StoreSetting;
  /**
   * Expire old store rows in the background: raw runs and calls after `raw`, rollups after
   * `rollups` (`'30d'`, `'400d'`, or milliseconds). Default: keep everything
   * (FLOWMETER_RETAIN_RAW, FLOWMETER_RETAIN_ROLLUPS).
   */
  readonly retention?: { readonly raw?: string | number; readonly rollups?: string | number };
  /**
   * Also send every event to a collector (`flowmeter serve`): its URL, e.g.
   * `'http://127.0.0.1:9108'`, or `{ url, token }`. FLOWMETER_COLLECTOR names one too.
   */
  readonly collector?: string | { readonly url: string; readonly token?: string };
  /**
   * Sample the process — CPU, memory, event-loop delay, GC pauses, open handles, the audit
   * queue's depth — every `intervalMs` (default 10 s) into the meter's Prometheus view
   * (`flowmeter_process_*`, `flowmeter_nodejs_*`, `flowmeter_audit_queue_depth`). Off by default.
   */
  readonly systemMetrics?: boolean | { readonly intervalMs?: number };
  /** More sinks, after the built-in ones: e.g. `new OtelExporter()` from `flowmeter/otel`, `new StatsdExporter()` from `flowmeter/statsd`. */
  readonly sinks?: readonly Sink[];
  /** A user price file (JSON) and/or entries that override the built-in table. FLOWMETER_PRICES names a file too. */
  readonly prices?: { readonly file?: string; readonly models?: Readonly<Record<string, { input: number; output: number; cached_input?: number; cache_write?: number }>> };
  readonly defaults?: RunDefaults;
  /** Budget applied to every run unless the run sets its own. */
  readonly budget?: Budget;
  /** Bound of the audit queue. Default 65,536 (FLOWMETER_QUEUE_CAPACITY). */
  readonly queueCapacity?: number;
  /**
   * What a full audit queue does. `drop` (default): the event is dropped and counted, and
   * the program never waits for its measurements. `wait`: nothing is dropped; the queue is
   * written out on the caller's stack and `llmCall`/`toolCall` resolve once the sinks have
   * caught up, which slows a loop that records faster than the disk writes.
   */
  readonly onFull?: 'drop' | 'wait';
  /** How long `flush()`/`close()` wait for async sinks. Default 5,000 ms. */
  readonly flushTimeoutMs?: number;
  /** Where one-time warnings go. Default `process.emitWarning`. */
  readonly onWarning?: WarningHandler;
  /** Environment to read `FLOWMETER_*` from. Default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export interface ResolvedOptions {
  readonly enabled: boolean;
  readonly runsDir: string | false;
  readonly store: StoreSetting;
  readonly retention: RetentionPolicy;
  readonly eventLog: boolean;
  readonly fileWriter: 'sync' | 'thread';
  readonly storeWriter: 'sync' | 'thread';
  readonly log: Required<LogOptions> | false;
  readonly pricesFile: string | undefined;
  readonly profiles: readonly ProfileName[] | false;
  readonly execMode: ExecMode;
  readonly branch: string;
  readonly queueCapacity: number;
  readonly onFull: 'drop' | 'wait';
  readonly flushTimeoutMs: number;
}

const TRUE = new Set(['1', 'true', 'yes', 'on']);
const FALSE = new Set(['0', 'false', 'no', 'off']);

function flag(name: string, value: string | undefined): boolean | undefined {
  if (value === undefined || value === '') return undefined;
  const v = value.trim().toLowerCase();
  if (TRUE.has(v)) return true;
  if (FALSE.has(v)) return false;
  throw new MeterConfigError(`${name}=${value} is not understood; use 1 or 0`);
}

function positiveInt(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value <= 0) throw new MeterConfigError(`${name} must be a positive integer, got ${String(value)}`);
  return value;
}

/**
 * Options win over the environment, the environment over defaults. FLOWMETER_* names
 * are ours; the AR_* names of ARX's runbook are read as aliases so its deployments
 * keep their settings.
 */
export function resolveOptions(options: MeterOptions): ResolvedOptions {
  const env = options.env ?? process.env;
  const enabled = options.enabled ?? flag('FLOWMETER_ENABLE_METRICS', env.FLOWMETER_ENABLE_METRICS) ?? flag('AR_ENABLE_METRICS', env.AR_ENABLE_METRICS) ?? true;

  let log: Required<LogOptions> | false = false;
  const logSwitch = flag('FLOWMETER_LOG', env.FLOWMETER_LOG);
  if (options.log !== false && !(options.log === undefined && logSwitch === false)) {
    const format = options.log?.format ?? env.FLOWMETER_LOG_FORMAT ?? 'logfmt';
    if (format !== 'logfmt' && format !== 'json') throw new MeterConfigError(`log format "${format}" is not supported; use "logfmt" or "json"`);
    const file = env.FLOWMETER_LOG_FILE;
    log = { format, destination: options.log?.destination ?? (file ? { path: file } : 'stderr') };
  }

  const execMode = options.defaults?.execMode ?? env.FLOWMETER_EXEC_MODE ?? 'live';
  if (execMode !== 'live' && execMode !== 'dry_run') throw new MeterConfigError(`exec mode "${execMode}" is not supported; use "live" or "dry_run"`);

  const runsDir = options.runsDir ?? env.FLOWMETER_RUNS_DIR ?? '.flowmeter/runs';
  return {
    enabled,
    runsDir,
    store: resolveStore(options.store, env.FLOWMETER_DB, runsDir),
    retention: resolveRetention(options.retention?.raw ?? env.FLOWMETER_RETAIN_RAW, options.retention?.rollups ?? env.FLOWMETER_RETAIN_ROLLUPS),
    eventLog: options.eventLog ?? true,
    fileWriter: choiceOf('fileWriter', options.fileWriter, 'sync', 'thread'),
    storeWriter: choiceOf('storeWriter', options.storeWriter, 'sync', 'thread'),
    log,
    pricesFile: options.prices?.file ?? env.FLOWMETER_PRICES,
    profiles: resolveProfiles(options, env),
    execMode,
    branch: options.defaults?.branch ?? env.FLOWMETER_BRANCH ?? 'unknown',
    queueCapacity: positiveInt('queueCapacity', options.queueCapacity ?? envInt('FLOWMETER_QUEUE_CAPACITY', env.FLOWMETER_QUEUE_CAPACITY), 65_536),
    onFull: choiceOf('onFull', options.onFull, 'drop', 'wait'),
    flushTimeoutMs: positiveInt('flushTimeoutMs', options.flushTimeoutMs, 5_000),
  };
}

function envInt(name: string, value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  if (!/^\d+$/.test(value.trim())) throw new MeterConfigError(`${name}=${value} is not a positive integer`);
  return Number(value.trim());
}

/** One of two settings, the first by default; anything else is a configuration mistake that names the choices. */
function choiceOf<A extends string, B extends string>(name: string, value: unknown, first: A, second: B): A | B {
  if (value === undefined) return first;
  if (value === first || value === second) return value as A | B;
  throw new MeterConfigError(`${name} must be '${first}' or '${second}', got ${typeof value === 'string' ? JSON.stringify(value) : typeof value}`);
}

function resolveProfiles(options: MeterOptions, env: Readonly<Record<string, string | undefined>>): readonly ProfileName[] | false {
  if (options.prometheus === false) return false;
  if (options.prometheus?.profiles !== undefined) return options.prometheus.profiles;
  const spec = env.FLOWMETER_PROFILE;
  if (spec === undefined || spec === '') return ['default'];
  try {
    return parseProfiles(spec);
  } catch (err) {
    throw new MeterConfigError(`FLOWMETER_PROFILE: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function resolveStore(option: StoreSetting | undefined, env: string | undefined, runsDir: string | false): StoreSetting {
  if (option !== undefined) {
    if (option !== false && !('path' in option && typeof option.path === 'string') && !('url' in option && typeof option.url === 'string')) {
      throw new MeterConfigError('store must be false, { path: "flowmeter.db" } or { url: "postgres://…" }');
    }
    return option;
  }
  if (env !== undefined && env !== '') {
    try {
      return parseStoreSetting(env);
    } catch (err) {
      throw new MeterConfigError(`FLOWMETER_DB: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  // The store lives beside the runs folder, so a test or a job that moves one moves both.
  return runsDir === false ? false : { path: join(dirname(runsDir), 'flowmeter.db') };
}

function resolveRetention(raw: string | number | undefined, rollups: string | number | undefined): RetentionPolicy {
  try {
    const policy: RetentionPolicy = {
      ...(raw === undefined || raw === '' ? {} : { rawMs: parseRetention(raw, 'retention.raw') }),
      ...(rollups === undefined || rollups === '' ? {} : { rollupsMs: parseRetention(rollups, 'retention.rollups') }),
    };
    checkPolicy(policy);
    return policy;
  } catch (err) {
    throw new MeterConfigError(err instanceof Error ? err.message : String(err));
  }
}
