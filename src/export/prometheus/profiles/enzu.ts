import type { FlowEvent, RunEvent } from '../../../model/index.js';
import type { CounterFamily, HistogramFamily, Registry } from '../../../recorder/index.js';
import type { Profile } from './profile.js';

/** enzu's bucket lists (enzu docs, "Run Metrics": cost $0.0001 → $10, elapsed 0.05 s → 600 s, tokens 50 → 250k, retries 0 → 100). */
export const ENZU_COST_BUCKETS: readonly number[] = [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10];
export const ENZU_ELAPSED_BUCKETS: readonly number[] = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 600];
export const ENZU_TOKEN_BUCKETS: readonly number[] = [50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000];
export const ENZU_RETRY_BUCKETS: readonly number[] = [0, 1, 2, 3, 5, 10, 25, 50, 100];

/**
 * enzu's `enzu_*` families exactly (names, label names, bucket lists), one observation per
 * finished run as enzu's collector makes them, so its dashboards and p95 alerts keep
 * working. Unlike enzu's own `prometheus_format()`, the `_bucket` values are cumulative and
 * never exceed `_count` (the writer reads them from the registry's cumulative counts).
 */
export class EnzuProfile implements Profile {
  readonly #runs: CounterFamily;
  readonly #costUnknown: CounterFamily;
  readonly #retries: CounterFamily;
  readonly #budgetDuringRetry: CounterFamily;
  readonly #elapsed: HistogramFamily;
  readonly #cost: HistogramFamily;
  readonly #totalTokens: HistogramFamily;
  readonly #inputTokens: HistogramFamily;
  readonly #outputTokens: HistogramFamily;
  readonly #runRetries: HistogramFamily;

  constructor(registry: Registry) {
    // enzu's histograms are for Prometheus only; the default profile keeps the sketches.
    const sketch = false;
    const none: string[] = [];
    this.#runs = registry.counter({ name: 'enzu_runs_total', help: 'Total number of runs by outcome', labelNames: ['outcome', 'partial'] });
    this.#costUnknown = registry.counter({ name: 'enzu_runs_cost_unknown_total', help: 'Runs without cost data', labelNames: none });
    this.#retries = registry.counter({ name: 'enzu_retries_total', help: 'Total retries by reason', labelNames: ['reason'] });
    this.#budgetDuringRetry = registry.counter({ name: 'enzu_budget_exceeded_during_retry_total', help: 'Budget hits during retries', labelNames: none });
    const histogram = (name: string, help: string, buckets: readonly number[]): HistogramFamily =>
      registry.histogram({ name, help, labelNames: none, buckets, sketch });
    this.#elapsed = histogram('enzu_run_elapsed_seconds', 'Distribution of wall-clock seconds per run', ENZU_ELAPSED_BUCKETS);
    this.#cost = histogram('enzu_run_cost_usd', 'Distribution of USD per run', ENZU_COST_BUCKETS);
    this.#totalTokens = histogram('enzu_run_total_tokens', 'Distribution of total tokens per run', ENZU_TOKEN_BUCKETS);
    this.#inputTokens = histogram('enzu_run_input_tokens', 'Distribution of input tokens per run', ENZU_TOKEN_BUCKETS);
    this.#outputTokens = histogram('enzu_run_output_tokens', 'Distribution of output tokens per run', ENZU_TOKEN_BUCKETS);
    this.#runRetries = histogram('enzu_run_retries', 'Distribution of retries per run', ENZU_RETRY_BUCKETS);
  }

  record(event: FlowEvent): void {
    switch (event.kind) {
      case 'run_finished':
        this.#runFinished(event.event);
        break;
      case 'retry':
        this.#retries.labels(event.reason).inc();
        break;
      // enzu measures runs, not their parts.
      case 'run_started':
      case 'step_started':
      case 'step_finished':
      case 'llm_call':
      case 'tool_call':
      case 'tokens':
        break;
      default: {
        const unreachable: never = event;
        return unreachable;
      }
    }
  }

  #runFinished(run: RunEvent): void {
    // enzu writes partial as 0/1 (`enzu_runs_total{outcome="success",partial="0"}`).
    this.#runs.labels(run.outcome, run.partial ? '1' : '0').inc();
    this.#elapsed.labels().observe(run.elapsed_seconds);
    // A value the run did not measure is not observed (observing 0 would drag p50 down).
    if (run.cost_usd !== null) this.#cost.labels().observe(run.cost_usd);
    else this.#costUnknown.labels().inc();
    if (run.total_tokens !== null) this.#totalTokens.labels().observe(run.total_tokens);
    if (run.input_tokens !== null) this.#inputTokens.labels().observe(run.input_tokens);
    if (run.output_tokens !== null) this.#outputTokens.labels().observe(run.output_tokens);
    this.#runRetries.labels().observe(run.retries);
    if (run.budget_exceeded_during_retry) this.#budgetDuringRetry.labels().inc();
  }
}
