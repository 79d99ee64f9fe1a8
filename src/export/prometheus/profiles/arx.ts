import type { FlowEvent, LlmCall, RunFinished, RunMeta, StepFinished } from '../../../model/index.js';
import type { CounterFamily, GaugeFamily, HistogramFamily, Registry } from '../../../recorder/index.js';
import { NONE_LABEL_VALUE } from './profile.js';
import type { Profile } from './profile.js';

/** ARX's `ar_step_latency_ms` bounds, in milliseconds (ARX runbook, "Step-Level Metrics"). */
export const ARX_STEP_LATENCY_MS_BUCKETS: readonly number[] = [50, 100, 200, 400, 800, 1500, 3000, 5000, 8000, 12000, 20000, 40000];

/**
 * ARX's families exactly as its runbook lists them (names, types, label names and order,
 * buckets), so its Grafana dashboard `flows_overview.json` and its PromQL work unchanged.
 * ARX calls the agent `persona` and token directions `in` / `out`. Its names break the
 * naming guide on purpose (`_ms`, not seconds): they are ARX's contract, not ours.
 */
export class ArxProfile implements Profile {
  readonly #started: CounterFamily;
  readonly #success: CounterFamily;
  readonly #fail: CounterFamily;
  readonly #stepLatency: HistogramFamily;
  readonly #stepRetries: CounterFamily;
  readonly #inflight: GaugeFamily;
  readonly #tokens: CounterFamily;

  constructor(registry: Registry) {
    const flow = ['flow_id', 'persona', 'exec_mode', 'branch'];
    // ARX's histograms are for Prometheus only; the default profile keeps the sketches.
    const sketch = false;
    this.#started = registry.counter({ name: 'ar_flow_started_total', help: 'Number of flows started', labelNames: flow });
    this.#success = registry.counter({ name: 'ar_flow_success_total', help: 'Number of flows completed successfully', labelNames: flow });
    this.#fail = registry.counter({ name: 'ar_flow_fail_total', help: 'Number of flows that failed', labelNames: [...flow, 'reason'] });
    this.#stepLatency = registry.histogram({
      name: 'ar_step_latency_ms',
      help: 'Step execution latency in milliseconds',
      labelNames: ['flow_id', 'step_id', 'persona', 'model', 'exec_mode'],
      buckets: ARX_STEP_LATENCY_MS_BUCKETS,
      sketch,
    });
    this.#stepRetries = registry.counter({ name: 'ar_step_retries_total', help: 'Number of step retries', labelNames: ['flow_id', 'step_id', 'persona'] });
    this.#inflight = registry.gauge({ name: 'ar_inflight_steps', help: 'Number of currently running steps', labelNames: ['flow_id'] });
    this.#tokens = registry.counter({ name: 'ar_tokens_total', help: 'Token usage (direction = in|out)', labelNames: ['direction', 'model', 'persona'] });
  }

  record(event: FlowEvent): void {
    switch (event.kind) {
      case 'run_started': {
        const run: RunMeta = event.run;
        this.#started.labels(run.flow_id, run.agent, run.exec_mode, run.branch).inc();
        break;
      }
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
        this.#stepRetries.labels(event.flow_id, event.step_id ?? NONE_LABEL_VALUE, event.agent).inc();
        break;
      case 'llm_call':
        this.#llmCall(event);
        break;
      case 'tokens':
        this.#tokens.labels(event.direction, event.model, event.agent).inc(event.count);
        break;
      // ARX has no tool metric.
      case 'tool_call':
        break;
      default: {
        const unreachable: never = event;
        return unreachable;
      }
    }
  }

  #runFinished(e: RunFinished): void {
    const { flow_id, agent, exec_mode, branch } = e.run;
    const run = e.event;
    if (run.success) {
      this.#success.labels(flow_id, agent, exec_mode, branch).inc();
      return;
    }
    // ARX's `reason` is the exception class name (`type(e).__name__`); a run that failed
    // without one (a timeout, a budget) gives its outcome instead.
    this.#fail.labels(flow_id, agent, exec_mode, branch, run.error_type ?? run.outcome).inc();
  }

  abandonSteps(flowId: string, steps: number): void {
    const inflight = this.#inflight.labels(flowId);
    inflight.dec(Math.min(steps, inflight.value));
  }

  #stepFinished(e: StepFinished): void {
    // A view attached mid-run sees ends without starts; in-flight never goes below zero.
    const inflight = this.#inflight.labels(e.flow_id);
    if (inflight.value > 0) inflight.dec();
    this.#stepLatency.labels(e.flow_id, e.step_id, e.agent, e.model ?? NONE_LABEL_VALUE, e.exec_mode).observe(e.duration_ms);
  }

  #llmCall(e: LlmCall): void {
    if (e.input_tokens !== null) this.#tokens.labels('in', e.model, e.agent).inc(e.input_tokens);
    if (e.output_tokens !== null) this.#tokens.labels('out', e.model, e.agent).inc(e.output_tokens);
  }
}
