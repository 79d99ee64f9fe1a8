/**
 * apxm's `--emit-metrics` JSON (seed 000), field for field, plus `overhead_ratio_pct`.
 *
 * Every field is a measurement or absent: with no LLM request there is no latency to report,
 * so `avg/p50/p99_latency_ms` and `overhead_ratio_pct` are left out rather than written as 0;
 * token totals are left out when no call reported usage. The `llm` section is computed from
 * the run's own `llm_call` events, the same records metrics.jsonl holds, so the two agree.
 * Latency percentiles are exact (nearest rank over every call of the run), not estimated:
 * a run's calls are all at hand.
 */
import type { LlmCallTiming } from './llm-call-collector.js';
import type { OptLevel } from '../ir/plan.js';
import type { SchedulerMetrics } from '../scheduler/index.js';
import type { WorkflowRun } from './workflow.js';

export interface LinkPhases {
  /** Parsing, checking, lowering and optimizing the source (on a plan-cache hit: hashing the source and looking it up). */
  readonly compile_ms: number;
  /** Serializing, hashing and writing the plan artifact (on a hit: reading, parsing and verifying it). */
  readonly artifact_ms: number;
  /** Validating the plan: acyclic, every input bound, every op and tool known. */
  readonly validation_ms: number;
  /** Opening the SDK run to its result: the graph, LLM calls, recording and run files. */
  readonly runtime_ms: number;
}

export interface LlmSection {
  readonly total_requests: number;
  readonly total_input_tokens?: number;
  readonly total_output_tokens?: number;
  readonly avg_latency_ms?: number;
  readonly p50_latency_ms?: number;
  readonly p99_latency_ms?: number;
}

export interface ApxmMetrics {
  readonly input: string;
  readonly optimization_level: OptLevel;
  readonly execution: {
    readonly nodes_executed: number;
    readonly nodes_failed: number;
    readonly duration_ms: number;
    readonly status: 'success' | 'failed';
  };
  readonly scheduler: SchedulerMetrics;
  readonly llm: LlmSection;
  readonly link_phases: LinkPhases;
  readonly overhead_ratio_pct?: number;
}

/**
 * Rounds to `digits` significant digits: timer noise goes, and a tiny measurement such as
 * 0.0004 ms stays a measurement instead of rounding to 0.
 */
function round(value: number, digits: number): number {
  return value === 0 || !Number.isFinite(value) ? value : Number(value.toPrecision(digits));
}

/** Nearest rank: the smallest observed value with at least q of the values at or below it. */
export function nearestRank(sorted: readonly number[], q: number): number {
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[rank - 1]!;
}

export function llmSection(calls: readonly LlmCallTiming[]): LlmSection {
  const total = calls.length;
  if (total === 0) return { total_requests: 0 };
  const latencies = calls.map((c) => c.duration_ms).sort((a, b) => a - b);
  const sum = latencies.reduce((a, b) => a + b, 0);
  const tokens = (key: 'input_tokens' | 'output_tokens'): number | undefined => {
    const known = calls.filter((c) => c[key] !== null);
    return known.length === 0 ? undefined : known.reduce((a, c) => a + c[key]!, 0);
  };
  const input = tokens('input_tokens');
  const output = tokens('output_tokens');
  return {
    total_requests: total,
    ...(input !== undefined ? { total_input_tokens: input } : {}),
    ...(output !== undefined ? { total_output_tokens: output } : {}),
    avg_latency_ms: round(sum / total, 5),
    p50_latency_ms: nearestRank(latencies, 0.5),
    p99_latency_ms: nearestRank(latencies, 0.99),
  };
}

function roundScheduler(s: SchedulerMetrics): SchedulerMetrics {
  const us = (v: number): number => round(v, 4);
  const b = s.overhead_breakdown;
  return {
    per_op_overhead_us: us(s.per_op_overhead_us),
    overhead_breakdown: {
      ready_set_update_us: us(b.ready_set_update_us),
      work_stealing_us: us(b.work_stealing_us),
      input_collection_us: us(b.input_collection_us),
      operation_dispatch_us: us(b.operation_dispatch_us),
      token_routing_us: us(b.token_routing_us),
    },
    max_parallelism: s.max_parallelism,
    avg_parallelism: round(s.avg_parallelism, 5),
    operations_executed: s.operations_executed,
    operations_failed: s.operations_failed,
  };
}

/**
 * apxm's definition: (per_op_overhead_us × operations_executed) / (avg_latency_ms × total_requests × 1000) × 100,
 * i.e. the scheduler's total time as a share of the total LLM time. Absent without LLM time.
 */
export function overheadRatioPct(scheduler: SchedulerMetrics, llm: LlmSection): number | undefined {
  if (llm.avg_latency_ms === undefined || llm.total_requests === 0 || llm.avg_latency_ms <= 0) return undefined;
  const pct = ((scheduler.per_op_overhead_us * scheduler.operations_executed) / (llm.avg_latency_ms * llm.total_requests * 1000)) * 100;
  return Number(pct.toPrecision(4));
}

export interface EmitInput {
  readonly input: string;
  readonly level: OptLevel;
  readonly run: WorkflowRun;
  readonly llmCalls: readonly LlmCallTiming[];
  readonly compileMs: number;
  readonly artifactMs: number;
  readonly validationMs: number;
}

export function apxmMetrics(x: EmitInput): ApxmMetrics {
  const s = x.run.scheduler;
  const llm = llmSection(x.llmCalls);
  const ratio = overheadRatioPct(s, llm);
  return {
    input: x.input,
    optimization_level: x.level,
    execution: {
      // apxm: "DAG nodes successfully executed".
      nodes_executed: s.operations_executed - s.operations_failed,
      nodes_failed: x.run.nodesFailed,
      duration_ms: round(x.run.durationMs, 5),
      status: x.run.ok ? 'success' : 'failed',
    },
    scheduler: roundScheduler(s),
    llm,
    link_phases: {
      compile_ms: round(x.compileMs, 5),
      artifact_ms: round(x.artifactMs, 5),
      validation_ms: round(x.validationMs, 5),
      runtime_ms: round(x.run.runtimeMs, 5),
    },
    ...(ratio !== undefined ? { overhead_ratio_pct: ratio } : {}),
  };
}
