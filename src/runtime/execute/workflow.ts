/**
 * `runWorkflow`: one run of a compiled plan as one measured SDK run.
 *
 * The run is opened with `meter.run` (flow id = the entry's `Agent.flow`), so the workflow
 * runtime is a user of the SDK like any app: metrics.jsonl, logs, the RunEvent, Prometheus
 * and the summary line come from the same events. The entry graph runs on the run's signal,
 * so a budget or `timeoutMs` aborts in-flight LLM calls. Scheduler retries are recorded with
 * `run.retry(reason, backoff)` on the node's step.
 */
import { performance } from 'node:perf_hooks';
import type { Meter } from '../../meter/meter.js';
import type { Budget } from '../../meter/run-state.js';
import type { RunEvent } from '../../model/index.js';
import type { Plan } from '../ir/plan.js';
import type { RunMemory } from '../memory/memory.js';
import type { Provider } from '../providers/provider.js';
import { DEFAULT_CIRCUIT_BREAKER, DEFAULT_RETRY, SchedulerClock } from '../scheduler/index.js';
import type { CircuitBreakerOptions, RetryOptions, SchedulerMetrics } from '../scheduler/index.js';
import type { ToolLookup } from '../tools/tool.js';
import type { ExecEnv } from './env.js';
import { runFlow } from './run-flow.js';


export interface WorkflowOptions {
  readonly plan: Plan;
  readonly meter: Meter;
  readonly provider: Provider;
  readonly model: string;
  readonly tools: ToolLookup;
  /** Called once per run: stm and episodic memory are per run. */
  readonly memory: () => RunMemory;
  /** The entry flow's parameters. */
  readonly inputs: Readonly<Record<string, string>>;
  /** Where `print(...)` goes. Default: nowhere. */
  readonly print?: (text: string) => void;
  /** Most nodes in flight at once, per graph. Default unlimited. */
  readonly concurrency?: number;
  /** Most LLM calls in flight at once. Default unlimited. */
  readonly llmConcurrency?: number;
  /** `false` turns retries off. */
  readonly retry?: RetryOptions | false;
  readonly circuitBreaker?: CircuitBreakerOptions | false;
  readonly budget?: Budget;
  readonly execMode?: 'dry_run' | 'live';
  readonly signal?: AbortSignal;
  readonly runId?: string;
}

export interface WorkflowRun {
  readonly runId: string;
  readonly ok: boolean;
  /** The entry flow's return value, when it ran to the end. */
  readonly output?: string;
  readonly error?: unknown;
  readonly summary?: string;
  readonly event?: RunEvent;
  /** Nodes failed over every graph of the run, including dependents that never ran. */
  readonly nodesFailed: number;
  readonly scheduler: SchedulerMetrics;
  /** The entry graph's wall time: first dispatch to last settlement. */
  readonly durationMs: number;
  /** From opening the SDK run to its result (the graph plus recording and run files). */
  readonly runtimeMs: number;
}

export async function runWorkflow(options: WorkflowOptions): Promise<WorkflowRun> {
  const { plan, meter } = options;
  const entry = plan.flows[plan.entry];
  if (entry === undefined) throw new Error(`the plan has no entry flow ${plan.entry}`);
  const clock = new SchedulerClock();
  const counts = { nodesFailed: 0 };
  let runId = options.runId ?? '';
  let durationMs = 0;
  const t0 = performance.now();
  const result = await meter.runSettled(
    {
      ...(options.runId !== undefined ? { runId: options.runId } : {}),
      flowId: plan.entry,
      agent: plan.entry.split('.')[0] ?? plan.entry,
      execMode: options.execMode ?? 'live',
      provider: options.provider.name,
      model: options.model,
      ...(options.budget !== undefined ? { budget: options.budget } : {}),
      ...(options.signal !== undefined ? { signal: options.signal } : {}),
      attributes: { plan_hash: plan.hash.slice(0, 16), optimization_level: plan.optimization_level },
    },
    async (run) => {
      runId = run.id;
      const retry = options.retry === false ? undefined : (options.retry ?? DEFAULT_RETRY);
      const breaker = options.circuitBreaker === false ? undefined : (options.circuitBreaker ?? DEFAULT_CIRCUIT_BREAKER);
      const env: ExecEnv = {
        plan,
        run,
        provider: options.provider,
        model: options.model,
        tools: options.tools,
        memory: options.memory(),
        print: options.print ?? (() => undefined),
        clock,
        counts,
        graph: {
          ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
          ...(options.llmConcurrency !== undefined ? { perProvider: { [options.provider.name]: options.llmConcurrency } } : {}),
          ...(retry !== undefined ? { retry, onRetry: (node, reason, _attempt, backoffSeconds) => run.retry(reason, backoffSeconds, { stepId: node.name }) } : {}),
          ...(breaker !== undefined ? { circuitBreaker: breaker } : {}),
        },
      };
      const g0 = performance.now();
      try {
        return (await runFlow(env, entry, options.inputs, run.signal)).output;
      } finally {
        durationMs = performance.now() - g0;
      }
    },
  );
  const runtimeMs = performance.now() - t0;
  const common = {
    runId: result.event?.run_id ?? runId,
    ...(result.summary !== undefined ? { summary: result.summary } : {}),
    ...(result.event !== undefined ? { event: result.event } : {}),
    nodesFailed: counts.nodesFailed,
    scheduler: clock.snapshot(),
    durationMs,
    runtimeMs,
  };
  return result.ok ? { ...common, ok: true, output: result.value } : { ...common, ok: false, error: result.error };
}
