import { AsyncLocalStorage } from 'node:async_hooks';
import { context as otelContext, trace as otelTrace } from '@opentelemetry/api';
import type { FlowEvent, Outcome, RetryReason, RunEvent, RunMeta } from '../model/index.js';
import { UNSERIALIZABLE, capName, invalidCost, jsonAttributes } from '../model/index.js';
import { PriceBook, UNKNOWN_COST, isReportedCost } from '../pricing/index.js';
import type { ResolvedCost } from '../pricing/index.js';
import { JsonlSink, LogSink, formatSummary } from '../sinks/index.js';
import { storeSinkAt } from '../sinks/store.js';
import type { StoreSink } from '../sinks/store.js';
import { JsonlThreadSink } from '../sinks/jsonl-thread.js';
import { StoreThreadSink } from '../sinks/store-thread.js';
import { CollectorSink } from '../sinks/collector.js';
import type { Sink } from '../sinks/index.js';
import type { ExpositionFormat } from '../export/prometheus/index.js';
import type { MetricsServer } from '../server/index.js';
import { RunStats } from '../stats/index.js';
import type { RunSnapshot } from '../stats/index.js';
import { AuditQueue } from './audit-queue.js';
import { monotonicMs, roundUsd } from './clock.js';
import { Diagnostics } from './diagnostics.js';
import type { DiagnosticsSnapshot } from './diagnostics.js';
import { MeterConfigError, errorType, outcomeOfError } from './errors.js';
import type { FailureSource } from './errors.js';
import { randomHex } from './random-hex.js';
import { trackForExit, untrackForExit } from './exit-hook.js';
import { Exposition } from './exposition.js';
import { SystemMetrics } from '../export/system-metrics.js';
import type { PushSettings, ServeOptions } from './exposition.js';
import { NOOP_RUN } from './noop.js';
import { resolveOptions } from './options.js';
import type { MeterOptions, ResolvedOptions, RunDefaults } from './options.js';
import { RunState } from './run-state.js';
import type { Budget } from './run-state.js';
import { RunHandle } from './run.js';
import type { LlmCallContext, LlmCallMeta, MeterCore, Run, RunFinish, StepMeta } from './run.js';
import type { Usage } from './usage.js';

/** How a run is identified when it is opened. Everything is optional. */
export interface RunInit {
  readonly runId?: string;
  readonly flowId?: string;
  readonly taskId?: string;
  readonly agent?: string;
  readonly execMode?: 'dry_run' | 'live';
  readonly branch?: string;
  readonly appId?: string;
  readonly sessionId?: string;
  readonly userId?: string;
  readonly attributes?: RunMeta['attributes'];
  /**
   * Run trees: a run opened inside another run of this meter is its child without saying so.
   * Set these to link across processes (a worker whose concierge passed its ids along).
   * `traceId` is a W3C trace id (32 lowercase hex digits); by default a child shares its
   * parent's, a root takes the active OpenTelemetry span's, or a new one.
   */
  readonly parentRunId?: string;
  readonly traceId?: string;
  /** Name the run's provider/model; otherwise the model that served most calls. */
  readonly provider?: string;
  readonly model?: string;
  readonly budget?: Budget;
  /** Cancels the run (outcome `cancelled`). */
  readonly signal?: AbortSignal;
}

interface RunResultBase {
  /** The RunEvent and tier-1 summary; absent when metrics are off. */
  readonly event?: RunEvent;
  readonly summary?: string;
}

/** What `meter.run` resolves to. It never rejects because of the run's own error: the error is here. */
export type RunResult<T> = (RunResultBase & { readonly ok: true; readonly value: T }) | (RunResultBase & { readonly ok: false; readonly error: unknown });

interface Scope {
  readonly state: RunState;
  readonly stepId: string | null;
}

const swallow = (): void => undefined;

function newRunId(): string {
  // Sortable by start time in a folder listing, unique by the random tail.
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  return `${stamp}_${randomHex(6)}`;
}

const TRACE_ID = /^[0-9a-f]{32}$/;

function newTraceId(): string {
  return randomHex(16);
}

/** The OpenTelemetry span active in the caller's context, if there is a valid one. */
function activeOtelSpan(): { readonly traceId: string; readonly spanId: string } | undefined {
  const span = otelTrace.getSpanContext(otelContext.active());
  return span !== undefined && otelTrace.isSpanContextValid(span) ? span : undefined;
}

/** Walks `cause` links: an LLM error wrapped by the agent's code is still an LLM error. */
function failureSource(state: RunState, err: unknown): FailureSource | null {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    const source = state.failures.get(current);
    if (source) return source;
    current = (current as { cause?: unknown }).cause;
  }
  if (typeof err !== 'object' || err === null) return state.lastFailure;
  // An HTTP error that a provider SDK raised for a call an integration recorded as failed
  // (the SDK's own error object, which the call never saw): the provider's failure.
  if (state.lastFailure === 'llm' && typeof (err as { status?: unknown }).status === 'number') return 'llm';
  return null;
}

export class Meter {
  readonly enabled: boolean;
  /** Run statistics of every run this meter finished; mergeable with other meters' (`stats.merge`). */
  readonly stats = new RunStats();
  private readonly options: ResolvedOptions;
  private readonly defaults: RunDefaults;
  private readonly budget: Budget;
  private readonly diag: Diagnostics;
  private readonly queue: AuditQueue;
  private readonly prices: PriceBook;
  private readonly storage = new AsyncLocalStorage<Scope>();
  private readonly inflightByFlow = new Map<string, number>();
  private readonly core: MeterCore;
  private readonly exposition: Exposition | undefined;
  /** On a worker thread with `storeWriter: 'thread'`. */
  private readonly storeSink: StoreSink | StoreThreadSink | undefined;
  /** Set when run folders are written on a worker thread (`fileWriter: 'thread'`). */
  private readonly fileThread: JsonlThreadSink | undefined;
  private closing: Promise<void> | undefined;
  private readonly runEndListeners: ((finish: RunFinish) => void)[] = [];
  private readonly system: SystemMetrics | undefined;

  constructor(options: MeterOptions = {}) {
    this.options = resolveOptions(options);
    this.enabled = this.options.enabled;
    this.defaults = options.defaults ?? {};
    this.budget = options.budget ?? {};
    // A bad meter-wide budget is a configuration mistake: say so here, not at the first run.
    validateBudget(this.budget);
    this.diag = new Diagnostics(options.onWarning);
    this.prices = new PriceBook({ file: this.options.pricesFile, models: options.prices?.models });
    const sinks: Sink[] = [];
    if (this.enabled) {
      const onError = (name: string) => (err: unknown) => this.diag.sinkError(name, err);
      if (this.options.runsDir !== false) {
        // One pass writes metrics.jsonl and, by default, events.jsonl (see JsonlSink).
        const files = { runsDir: this.options.runsDir, eventLog: this.options.eventLog, onError: onError('jsonl') };
        if (this.options.fileWriter === 'thread') {
          this.fileThread = new JsonlThreadSink(files);
          sinks.push(this.fileThread);
        } else sinks.push(new JsonlSink(files));
      }
      if (this.options.log !== false) sinks.push(new LogSink({ ...this.options.log, onError: onError('log') }));
      const store = this.options.store;
      if (store !== false) {
        const writer = {
          ...(options.onWarning === undefined ? {} : { onWarning: options.onWarning }),
          closeTimeoutMs: this.options.flushTimeoutMs,
          retention: this.options.retention,
        };
        this.storeSink =
          this.options.storeWriter === 'thread'
            ? new StoreThreadSink({ store, ...writer })
            : storeSinkAt(store, writer);
        sinks.push(this.storeSink);
        this.diag.storeStats = () => this.storeSink?.stats();
      }
      const collector = options.collector ?? (options.env ?? process.env).FLOWMETER_COLLECTOR;
      if (collector !== undefined && collector !== '') {
        const c = typeof collector === 'string' ? { url: collector } : collector;
        sinks.push(new CollectorSink({ ...c, onError: onError('collector') }));
      }
      sinks.push(...(options.sinks ?? []));
    }
    this.queue = new AuditQueue(sinks, this.options.queueCapacity, this.diag, this.options.onFull);
    this.exposition =
      this.enabled && this.options.profiles !== false
        ? new Exposition(this.options.profiles, options.prometheus === false ? undefined : options.prometheus?.maxSeriesPerMetric, this.diag, options.pushgateway, options.env ?? process.env)
        : undefined;
    const system = options.systemMetrics;
    if (this.exposition !== undefined && system !== undefined && system !== false) {
      this.system = new SystemMetrics(this.exposition.view.registry, {
        ...(system === true || system.intervalMs === undefined ? {} : { intervalMs: system.intervalMs }),
        queue: () => ({ depth: this.queue.depth, dropped: this.diag.droppedEvents }),
      });
    }
    this.core = this.makeCore();
    if (options.onRunEnd !== undefined) this.runEndListeners.push(options.onRunEnd);
    if (this.enabled)
      trackForExit(this, () => {
        this.queue.drain();
        this.fileThread?.settleSync(this.options.flushTimeoutMs);
        this.storeSink?.drainNow();
      });
  }

  /**
   * Runs `fn` as one measured run and is transparent to it: resolves to what `fn` returns
   * and rejects with exactly the error `fn` threw (the same object), like OpenTelemetry's
   * `startActiveSpan`. A budget or timeout that stops the run rejects with its
   * `BudgetExceededError` or `RunTimeoutError`. Every call made below it — in nested async
   * code too — is attributed to this run (AsyncLocalStorage), so concurrent runs never mix.
   * The run's RunEvent and summary are on `run.finished` and go to `onRunEnd` listeners;
   * `runSettled` resolves to them with the outcome instead. Settles when the run's files
   * are written.
   */
  async run<T>(init: RunInit, fn: (run: Run) => Promise<T> | T): Promise<T> {
    const result = await this.runSettled(init, fn);
    if (result.ok) return result.value;
    throw result.error;
  }

  /**
   * `run`, recorded: resolves to `{ ok, value | error, event, summary }` and never rejects
   * because `fn` failed (the error is in `error`, the outcome in `event.outcome`).
   */
  async runSettled<T>(init: RunInit, fn: (run: Run) => Promise<T> | T): Promise<RunResult<T>> {
    // A closed meter behaves like a disabled one: the program goes on, unmeasured.
    if (!this.enabled || this.closing !== undefined) {
      try {
        return { ok: true, value: await fn(NOOP_RUN) };
      } catch (error) {
        return { ok: false, error };
      }
    }
    const handle = this.open(init, true);
    const state = this.stateOf(handle);

    // The run's signal is only ever aborted with one of our Error classes (run-state.ts).
    const stopped = new Promise<never>((_, reject) => {
      if (state.signal.aborted) reject(state.signal.reason as Error);
      else state.signal.addEventListener('abort', () => reject(state.signal.reason as Error), { once: true });
    });
    stopped.catch(swallow);
    // A run cancelled before it starts does not start: its function is not called.
    const work = state.signal.aborted ? stopped : this.storage.run({ state, stepId: null }, async () => fn(handle));
    // If a budget or timeout ends the run first, `work` may still reject later; that
    // rejection belongs to a finished run and must not become an unhandled rejection.
    work.catch(swallow);

    let result: { ok: true; value: T } | { ok: false; error: unknown };
    let outcome: Outcome;
    try {
      // `stopped` first: when both have settled before the race (a signal aborted before the
      // run, a budget crossed in synchronous code), the stop decides the outcome.
      result = { ok: true, value: await Promise.race([stopped, work]) };
      outcome = state.outcome ?? 'success';
    } catch (error) {
      result = { ok: false, error };
      outcome = outcomeOfError(error, failureSource(state, error));
      state.errorType = errorType(error);
    }
    const finish = handle.end(outcome);
    // With the files written on a thread, `run()` still settles once they are on disk.
    await this.fileThread?.flush();
    return { ...result, event: finish.event, summary: finish.summary };
  }

  /**
   * ARX's `flow_start` for code that is not one callback: returns the run to record on
   * and end with `run.flowEnd(success, reason)`. Positional form mirrors ARX:
   * `flowStart('my_flow', 'CODER_AI', 'dry_run', 'main')`.
   */
  flowStart(init?: RunInit): Run;
  flowStart(flowId: string, agent?: string, execMode?: 'dry_run' | 'live', branch?: string): Run;
  flowStart(initOrFlow: RunInit | string = {}, agent?: string, execMode?: 'dry_run' | 'live', branch?: string): Run {
    if (!this.enabled || this.closing !== undefined) return NOOP_RUN;
    const init: RunInit = typeof initOrFlow === 'string' ? { flowId: initOrFlow, agent, execMode, branch } : initOrFlow;
    return this.open(init, false);
  }

  /**
   * Calls `listener` with every run's RunEvent and summary as the run ends (after its files
   * and logs are written). Returns a function that removes the listener. A listener that
   * throws is counted (`diagnostics().internal_errors`) and never affects the run.
   */
  onRunEnd(listener: (finish: RunFinish) => void): () => void {
    this.runEndListeners.push(listener);
    return () => {
      const at = this.runEndListeners.indexOf(listener);
      if (at >= 0) this.runEndListeners.splice(at, 1);
    };
  }

  /** The run the caller is inside (AsyncLocalStorage), if any. */
  current(): Run | undefined {
    const scope = this.storage.getStore();
    return scope ? scope.state.handle : undefined;
  }

  /** `llmCall` on the current run; outside any run the call is made but not measured (and counted). */
  llmCall<T>(meta: LlmCallMeta, fn: (call: LlmCallContext) => Promise<T> | T): Promise<T> {
    return this.currentOrNoop().llmCall(meta, fn);
  }

  toolCall<T>(name: string, fn: () => Promise<T> | T): Promise<T> {
    return this.currentOrNoop().toolCall(name, fn);
  }

  step<T>(id: string, fn: () => Promise<T> | T): Promise<T>;
  step<T>(id: string, meta: StepMeta, fn: () => Promise<T> | T): Promise<T>;
  step<T>(id: string, a: StepMeta | (() => Promise<T> | T), b?: () => Promise<T> | T): Promise<T> {
    const run = this.currentOrNoop();
    return typeof a === 'function' ? run.step(id, a) : run.step(id, a, b!);
  }

  retry(reason: RetryReason, backoffSeconds?: number): void {
    this.currentOrNoop().retry(reason, backoffSeconds);
  }

  /** enzu's `snapshot()`: p50/p95/p99, outcome distribution, cost coverage, retries. */
  snapshot(): RunSnapshot {
    return this.stats.snapshot();
  }

  /**
   * Opens the store now, so a store that cannot be used is a configuration error at start
   * (a PostgreSQL that is down, a file that is not a flowmeter database) rather than a
   * warning later. Without it the program goes on when the store fails: a SQLite file that
   * cannot open is skipped, a server that is down is retried while rows wait.
   */
  async ready(): Promise<void> {
    if (this.storeSink === undefined) return;
    try {
      await this.storeSink.ready();
    } catch (err) {
      throw new MeterConfigError(err instanceof Error ? err.message : String(err));
    }
  }

  /** Everything dropped or failed so far, as data. */
  diagnostics(): DiagnosticsSnapshot {
    return this.diag.snapshot();
  }

  /** In-flight steps, per flow (ARX's `ar_inflight_steps`). */
  inflightSteps(): ReadonlyMap<string, number> {
    return new Map(this.inflightByFlow);
  }

  /**
   * The Prometheus exposition of everything this meter recorded (text 0.0.4 or OpenMetrics),
   * in the profiles chosen with the `prometheus` option. Empty when metrics are off.
   */
  metrics(format: ExpositionFormat = 'text'): string {
    return this.exposition?.render(format) ?? '';
  }

  /**
   * Serves `/metrics` and `/healthz` from this process (default 127.0.0.1:9108), so a
   * long-running agent is scraped directly. Rejects with one clear line if the port is taken.
   */
  serve(options?: ServeOptions): Promise<MetricsServer> {
    if (this.exposition === undefined) return Promise.reject(new MeterConfigError('meter.serve(): metrics are off or the prometheus option is false'));
    return this.exposition.serve(options);
  }

  /** Pushes the current metrics to a Pushgateway (the `pushgateway` option, or `settings`). */
  push(settings?: PushSettings): Promise<void> {
    if (this.exposition === undefined) return Promise.reject(new MeterConfigError('meter.push(): metrics are off or the prometheus option is false'));
    return this.exposition.push(settings);
  }

  /** Hands queued events to every sink and waits (bounded by `flushTimeoutMs`) for async ones. */
  async flush(): Promise<void> {
    await this.queue.flush(this.options.flushTimeoutMs);
  }

  /** Flushes and releases files. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      untrackForExit(this);
      this.system?.stop();
      await this.queue.close(this.options.flushTimeoutMs);
      await this.exposition?.close();
    })();
    return this.closing;
  }

  private currentOrNoop(): Run {
    // Off means off: not even the async-context lookup.
    if (!this.enabled) return NOOP_RUN;
    const scope = this.storage.getStore();
    if (scope) return scope.state.handle;
    this.diag.unattributed();
    return NOOP_RUN;
  }

  private stateOf(handle: RunHandle): RunState {
    return handle.state;
  }

  private open(init: RunInit, holdProcess: boolean): RunHandle {
    const d = this.defaults;
    const enclosing = this.storage.getStore()?.state;
    const parent = enclosing !== undefined && !enclosing.ended && init.parentRunId === undefined ? enclosing : undefined;
    const parentRunId = init.parentRunId === undefined ? parent?.meta.run_id : capName(init.parentRunId);
    let traceId = parent?.meta.trace_id;
    if (init.traceId !== undefined) {
      if (TRACE_ID.test(init.traceId)) traceId = init.traceId;
      else this.diag.droppedValue('trace_id', 'not_a_trace_id', init.traceId);
    }
    const otelParent = traceId === undefined ? activeOtelSpan() : undefined;
    traceId ??= otelParent?.traceId ?? newTraceId();
    const meta: RunMeta = {
      // Names are cut to a bound once, here (model/values.ts capName).
      run_id: init.runId === undefined ? newRunId() : capName(init.runId),
      flow_id: capName(init.flowId ?? d.flowId ?? 'default'),
      task_id: init.taskId === undefined || init.taskId === null ? null : capName(init.taskId),
      agent: capName(init.agent ?? d.agent ?? 'default'),
      exec_mode: init.execMode ?? this.options.execMode,
      branch: capName(init.branch ?? this.options.branch),
      ...(init.appId !== undefined && { app_id: capName(init.appId) }),
      ...(init.sessionId !== undefined && { session_id: capName(init.sessionId) }),
      ...(init.userId !== undefined && { user_id: capName(init.userId) }),
      ...(parentRunId !== undefined && { parent_run_id: parentRunId }),
      trace_id: traceId,
      ...(otelParent !== undefined && { otel_parent_span_id: otelParent.spanId }),
      // Plain JSON data from here on: a cyclic object or a BigInt would make every line that
      // carries the run's identity unwritable (run.json, events.jsonl, the run's log line).
      attributes: jsonAttributes(init.attributes, (key) => this.diag.droppedValue(`attributes.${key}`, 'unserializable', UNSERIALIZABLE)),
    };
    // A run's budget overrides the meter's limit by limit; an undefined entry keeps the meter's.
    const budget: Budget = { ...this.budget };
    for (const [limit, value] of Object.entries(init.budget ?? {}) as [keyof Budget, number | undefined][]) {
      if (value !== undefined) (budget as Record<keyof Budget, number>)[limit] = value;
    }
    validateBudget(budget);
    const start = monotonicMs();
    const state = new RunState(meta, start, budget, init.provider ?? d.provider ?? null, init.model ?? d.model ?? null);
    state.parent = parent;
    const handle = new RunHandle(this.core, state);
    state.handle = handle;
    this.watch(state, init.signal, holdProcess);
    this.core.emit({ kind: 'run_started', run: meta, ts: state.startedAt });
    return handle;
  }

  /**
   * Arms the run's timeout and links the caller's cancel signal, for `run` and `flowStart`
   * alike; both are disarmed when the run ends, so a finished run holds no timer.
   */
  private watch(state: RunState, signal: AbortSignal | undefined, holdProcess: boolean): void {
    const { timeoutMs } = state.budget;
    if (timeoutMs !== undefined) {
      const timer = setTimeout(() => state.timeOut(timeoutMs), timeoutMs);
      // `meter.run` is awaited, so its timeout keeps the process up until the run ends. A
      // `flowStart` run may never be ended; its timer must not keep the process alive.
      if (!holdProcess) timer.unref();
      state.onEnd.push(() => clearTimeout(timer));
    }
    if (signal !== undefined) {
      const onCancel = (): void => state.cancel(signal.reason);
      if (signal.aborted) onCancel();
      else {
        signal.addEventListener('abort', onCancel, { once: true });
        state.onEnd.push(() => signal.removeEventListener('abort', onCancel));
      }
    }
  }

  private makeCore(): MeterCore {
    return {
      diagnostics: this.diag,
      emit: (event: FlowEvent, audit: 'queue' | 'keep' | 'skip' = 'queue') => {
        // Hot path first (typed-array increments, never throws), then the audit queue.
        this.exposition?.record(event);
        if (audit === 'skip') {
          this.diag.droppedEvent();
          return false;
        }
        return this.queue.push(event, audit === 'keep');
      },
      pressure: () => this.queue.pressure(),
      // resolveCost's rule (a valid reported cost wins, then the price table), read straight
      // from the usage: no CostInput and TokenUsage objects per call.
      cost: (model: string, usage: Usage, provider?: string): ResolvedCost => {
        const reported = usage.costUsd;
        if (isReportedCost(reported)) return { cost_usd: reported, cost_source: 'provider' };
        const { inputTokens, outputTokens } = usage;
        if (inputTokens === undefined || outputTokens === undefined) return UNKNOWN_COST;
        const estimated = this.prices.estimate(model, inputTokens, outputTokens, usage.cachedInputTokens, usage.cacheWriteTokens, provider);
        // Tokens × price per million leaves float noise (0.000023699999999999997): a table estimate
        // is kept to 1e-10 USD, far below any price's own precision; a reported cost stays as reported.
        if (estimated === null) return UNKNOWN_COST;
        // A price table estimate past the per-call bound is as untrue as a reported one:
        // no cost, and so no `cost_source` either.
        if (invalidCost(estimated) !== null) {
          this.diag.droppedValue('cost_usd', 'too_large', estimated);
          return UNKNOWN_COST;
        }
        return { cost_usd: roundUsd(estimated), cost_source: 'price_table' };
      },
      inStep: <T>(state: RunState, stepId: string, fn: () => Promise<T>) => this.storage.run({ state, stepId }, fn),
      currentStep: (state: RunState) => {
        const scope = this.storage.getStore();
        return scope !== undefined && scope.state === state ? scope.stepId : null;
      },
      inflight: (flowId: string, delta: 1 | -1) => {
        this.inflightByFlow.set(flowId, (this.inflightByFlow.get(flowId) ?? 0) + delta);
      },
      finish: (state: RunState, outcome: Outcome): RunFinish => {
        for (const close of [...state.openSteps]) close();
        state.ended = true;
        for (const release of state.onEnd) release();
        const event = state.toRunEvent(monotonicMs(), outcome);
        const summary = formatSummary(event);
        // Make room first: a burst of call events filling the queue must not crowd out the
        // one event that carries the run's RunEvent (run.json, the run's log line).
        this.queue.drain();
        this.core.emit({ kind: 'run_finished', run: state.meta, ts: event.finished_at, event, summary }, 'keep');
        // Synchronous sinks (files, logs) have the whole run when `run()` resolves.
        this.queue.drain();
        this.stats.observe(event);
        if (state.parent !== undefined && !state.parent.ended) state.parent.addChild(event);
        state.parent = undefined;
        const finish: RunFinish = { event, summary };
        for (const listener of [...this.runEndListeners]) {
          try {
            listener(finish);
          } catch (err) {
            this.diag.internalError(err);
          }
        }
        return finish;
      },
    };
  }
}

/** The longest delay `setTimeout` honours; past it Node.js fires after 1 ms instead. */
const MAX_TIMEOUT_MS = 2_147_483_647;

function validateBudget(budget: Budget): void {
  for (const [name, value] of Object.entries(budget)) {
    if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value) || value < 0)) {
      throw new MeterConfigError(`budget.${name} must be a non-negative number, got ${String(value)}`);
    }
  }
  if (budget.timeoutMs !== undefined && budget.timeoutMs > MAX_TIMEOUT_MS) {
    throw new MeterConfigError(`budget.timeoutMs must be at most ${MAX_TIMEOUT_MS} (about 24.8 days), got ${budget.timeoutMs}; leave it out for no timeout`);
  }
}

/** Creates a meter. Configuration mistakes throw here, with a message that says what to fix. */
export function createMeter(options: MeterOptions = {}): Meter {
  return new Meter(options);
}
