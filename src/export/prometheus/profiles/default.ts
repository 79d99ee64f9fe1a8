import type { FlowEvent, LlmCall, RunFinished, StepFinished, TokensRecorded } from '../../../model/index.js';
import type { Counter, CounterFamily, GaugeFamily, Histogram, HistogramFamily, Registry } from '../../../recorder/index.js';
import { NONE_LABEL_VALUE } from './profile.js';
import type { ExportDiagnostics, Profile } from './profile.js';

/*
 * Bucket choices. A classic histogram costs one series per bucket, so each list has 12–14
 * bounds placed where the decisions are made.
 *
 * LLM requests and steps run from ~50 ms (a cached or tiny completion) to minutes (long
 * reasoning, big generations, agent steps that chain calls): 1-2.5-5 steps from 50 ms to
 * 10 s, where most calls land and SLOs sit, then 20 s … 5 min so a stuck call still lands
 * in a finite bucket. Time to first token sits mostly between 0.2 and 3 s, so that span is
 * finer. Tools reach down to a few ms (local functions) and up to a minute (shell, HTTP).
 * Runs are sums of those: 100 ms to an hour. Cost per run uses enzu's bounds ($0.0001 … $10)
 * so enzu-style p95 panels read the same; tokens per run extend enzu's 50 … 250k to 2.5M,
 * because agent runs with long contexts pass 250k.
 */
export const LATENCY_BUCKETS: readonly number[] = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300];
export const TTFT_BUCKETS: readonly number[] = [0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30];
export const TOOL_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
export const RUN_DURATION_BUCKETS: readonly number[] = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];
export const RUN_COST_BUCKETS: readonly number[] = [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10];
export const RUN_TOKEN_BUCKETS: readonly number[] = [
  50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000,
];

/**
 * The series an LLM call records into, kept for the last (provider, model, agent): a run's
 * calls mostly repeat it, and three string comparisons cost less than four lookups in the
 * families' tries. An overflow series is never kept, because every uncached lookup that
 * lands on it is counted (LABEL_OVERFLOW_METRIC); a call that met one forgets the set.
 */
class CallSeries {
  provider: string | undefined = undefined;
  model = '';
  agent = '';
  duration: Histogram | undefined = undefined;
  ttft: Histogram | undefined = undefined;
  input: Counter | undefined = undefined;
  output: Counter | undefined = undefined;
  cost: Counter | undefined = undefined;
  overflowed = false;

  reset(provider: string | undefined, model: string, agent: string): void {
    this.provider = provider;
    this.model = model;
    this.agent = agent;
    this.duration = this.ttft = this.input = this.output = this.cost = undefined;
    this.overflowed = false;
  }

  keep<H>(family: { isOverflow(handle: H): boolean }, handle: H): H {
    if (family.isOverflow(handle)) this.overflowed = true;
    return handle;
  }
}

/**
 * flowmeter's own families, named per the Prometheus naming guide: base units (seconds,
 * USD), `_total` on counters, labels that name things (flow, step, model, tool), never ids.
 */
export class DefaultProfile implements Profile {
  readonly #runsStarted: CounterFamily;
  readonly #runsFinished: CounterFamily;
  readonly #runDuration: HistogramFamily;
  readonly #runCost: HistogramFamily;
  readonly #runTokens: HistogramFamily;
  readonly #costUnknown: CounterFamily;
  readonly #budgetDuringRetry: CounterFamily;
  readonly #stepDuration: HistogramFamily;
  readonly #stepRetries: CounterFamily;
  readonly #inflight: GaugeFamily;
  readonly #tokens: CounterFamily;
  readonly #cost: CounterFamily;
  readonly #llmDuration: HistogramFamily;
  readonly #ttft: HistogramFamily;
  readonly #toolDuration: HistogramFamily;
  readonly #droppedEvents: CounterFamily;
  readonly #sinkErrors: CounterFamily;
  readonly #storeRows: CounterFamily;
  readonly #storePending: GaugeFamily;
  readonly #diagnostics: (() => ExportDiagnostics) | undefined;
  readonly #call = new CallSeries();

  constructor(registry: Registry, diagnostics?: () => ExportDiagnostics) {
    this.#diagnostics = diagnostics;
    const run = ['flow_id', 'agent'];
    this.#runsStarted = registry.counter({ name: 'flowmeter_runs_started_total', help: 'Runs started.', labelNames: run });
    this.#runsFinished = registry.counter({
      name: 'flowmeter_runs_finished_total',
      help: 'Runs finished, by outcome (enzu outcomes) and whether the result is partial.',
      labelNames: ['flow_id', 'agent', 'outcome', 'partial'],
    });
    this.#runDuration = registry.histogram({ name: 'flowmeter_run_duration_seconds', help: 'Wall-clock time of a finished run.', labelNames: run, buckets: RUN_DURATION_BUCKETS, unit: 'seconds' });
    this.#runCost = registry.histogram({ name: 'flowmeter_run_cost_usd', help: 'Cost of a finished run in USD, when known.', labelNames: run, buckets: RUN_COST_BUCKETS, unit: 'usd' });
    this.#runTokens = registry.histogram({ name: 'flowmeter_run_tokens', help: 'Tokens (input + output) of a finished run, when known.', labelNames: run, buckets: RUN_TOKEN_BUCKETS });
    this.#costUnknown = registry.counter({ name: 'flowmeter_runs_cost_unknown_total', help: 'Finished runs whose cost is unknown.', labelNames: run });
    this.#budgetDuringRetry = registry.counter({
      name: 'flowmeter_budget_exceeded_during_retry_total',
      help: 'Runs that exceeded a budget while retrying.',
      labelNames: run,
    });
    this.#stepDuration = registry.histogram({
      name: 'flowmeter_step_duration_seconds',
      help: 'Duration of a finished step.',
      labelNames: ['flow_id', 'step_id', 'model', 'exec_mode'],
      buckets: LATENCY_BUCKETS,
      unit: 'seconds',
    });
    this.#stepRetries = registry.counter({ name: 'flowmeter_step_retries_total', help: 'Retries, by step and reason.', labelNames: ['flow_id', 'step_id', 'reason'] });
    this.#inflight = registry.gauge({ name: 'flowmeter_inflight_steps', help: 'Steps running now.', labelNames: ['flow_id'] });
    this.#tokens = registry.counter({ name: 'flowmeter_tokens_total', help: 'Tokens spent, by direction (input, output).', labelNames: ['direction', 'model', 'agent'] });
    this.#cost = registry.counter({ name: 'flowmeter_cost_usd_total', help: 'Cost in USD of calls whose cost is known.', labelNames: ['model', 'agent'], unit: 'usd' });
    this.#llmDuration = registry.histogram({
      name: 'flowmeter_llm_request_duration_seconds',
      help: 'Duration of an LLM request, failed ones included.',
      labelNames: ['provider', 'model'],
      buckets: LATENCY_BUCKETS,
      unit: 'seconds',
    });
    this.#ttft = registry.histogram({
      name: 'flowmeter_llm_time_to_first_token_seconds',
      help: 'Time to the first token of a streamed LLM request.',
      labelNames: ['provider', 'model'],
      buckets: TTFT_BUCKETS,
      unit: 'seconds',
    });
    this.#toolDuration = registry.histogram({ name: 'flowmeter_tool_call_duration_seconds', help: 'Duration of a tool call.', labelNames: ['tool', 'success'], buckets: TOOL_BUCKETS, unit: 'seconds' });
    this.#droppedEvents = registry.counter({ name: 'flowmeter_dropped_events_total', help: 'Events dropped because the audit queue was full.', labelNames: [] });
    this.#sinkErrors = registry.counter({ name: 'flowmeter_sink_errors_total', help: 'Batches a sink failed on.', labelNames: ['sink'] });
    this.#storeRows = registry.counter({
      name: 'flowmeter_store_rows_total',
      help: 'Rows the store writer handled: written, sampled (a call kept only in the rollups), dropped (backlog full or store unavailable), and failed writes retried.',
      labelNames: ['result'],
    });
    this.#storePending = registry.gauge({ name: 'flowmeter_store_pending_rows', help: 'Rows waiting for the store.', labelNames: [] });
  }

  record(event: FlowEvent): void {
    switch (event.kind) {
      case 'run_started':
        this.#runsStarted.labels(event.run.flow_id, event.run.agent).inc();
        break;
      case 'run_finished':
        this.#runFinished(event);
        break;
      case 'step_started':
        this.#inflight.labels(event.flow_id).inc();
        break;
      case 'step_finished':
        this.#stepFinished(event);
        break;
      case 'retry':
        this.#stepRetries.labels(event.flow_id, event.step_id ?? NONE_LABEL_VALUE, event.reason).inc();
        break;
      case 'llm_call':
        this.#llmCall(event);
        break;
      case 'tool_call':
        this.#toolDuration.labels(event.tool, event.success ? 'true' : 'false').observe(event.duration_ms / 1000);
        break;
      case 'tokens':
        this.#looseTokens(event);
        break;
      default: {
        const unreachable: never = event;
        return unreachable;
      }
    }
  }

  /** Counters that mirror the meter's diagnostics: raised by the difference since the last scrape. */
  collect(): void {
    if (this.#diagnostics === undefined) return;
    const now = this.#diagnostics();
    const dropped = this.#droppedEvents.labels();
    if (now.dropped_events > dropped.value) dropped.inc(now.dropped_events - dropped.value);
    for (const [sink, errors] of Object.entries(now.sink_errors)) {
      const counter = this.#sinkErrors.labels(sink);
      if (errors > counter.value) counter.inc(errors - counter.value);
    }
    const store = now.store;
    if (store !== undefined && store !== null) {
      for (const [result, value] of [
        ['written', store.written_rows],
        ['sampled', store.sampled_calls],
        ['dropped', store.dropped_rows],
        ['write_error', store.write_errors],
      ] as const) {
        const counter = this.#storeRows.labels(result);
        if (value > counter.value) counter.inc(value - counter.value);
      }
      this.#storePending.labels().set(store.pending_rows);
    }
  }

  #runFinished(e: RunFinished): void {
    const { flow_id, agent } = e.run;
    const run = e.event;
    this.#runsFinished.labels(flow_id, agent, run.outcome, run.partial ? 'true' : 'false').inc();
    this.#runDuration.labels(flow_id, agent).observe(run.elapsed_seconds);
    // An unknown value is absent, never a 0 (DESIGN.md: every number is true).
    if (run.cost_usd !== null) this.#runCost.labels(flow_id, agent).observe(run.cost_usd);
    else this.#costUnknown.labels(flow_id, agent).inc();
    if (run.total_tokens !== null) this.#runTokens.labels(flow_id, agent).observe(run.total_tokens);
    if (run.budget_exceeded_during_retry) this.#budgetDuringRetry.labels(flow_id, agent).inc();
  }

  #stepFinished(e: StepFinished): void {
    // A view attached mid-run sees ends without starts; in-flight never goes below zero.
    const inflight = this.#inflight.labels(e.flow_id);
    if (inflight.value > 0) inflight.dec();
    this.#stepDuration.labels(e.flow_id, e.step_id, e.model ?? NONE_LABEL_VALUE, e.exec_mode).observe(e.duration_ms / 1000);
  }

  #llmCall(e: LlmCall): void {
    const s = this.#call;
    if (e.provider !== s.provider || e.model !== s.model || e.agent !== s.agent) s.reset(e.provider, e.model, e.agent);
    (s.duration ??= s.keep(this.#llmDuration, this.#llmDuration.labels(e.provider, e.model))).observe(e.duration_ms / 1000);
    if (e.ttft_ms !== null) (s.ttft ??= s.keep(this.#ttft, this.#ttft.labels(e.provider, e.model))).observe(e.ttft_ms / 1000);
    if (e.input_tokens !== null) (s.input ??= s.keep(this.#tokens, this.#tokens.labels('input', e.model, e.agent))).inc(e.input_tokens);
    if (e.output_tokens !== null) (s.output ??= s.keep(this.#tokens, this.#tokens.labels('output', e.model, e.agent))).inc(e.output_tokens);
    if (e.cost_usd !== null) (s.cost ??= s.keep(this.#cost, this.#cost.labels(e.model, e.agent))).inc(e.cost_usd);
    if (s.overflowed) s.reset(undefined, '', '');
  }

  /** ARX's tokens_in / tokens_out: the same counters, so totals match the RunEvent. */
  #looseTokens(e: TokensRecorded): void {
    this.#tokens.labels(e.direction === 'in' ? 'input' : 'output', e.model, e.agent).inc(e.count);
    if (e.cost_usd !== null) this.#cost.labels(e.model, e.agent).inc(e.cost_usd);
  }
}
