import type { FlowEvent, LlmCall, RunMeta, ToolCall } from '../../src/model/index.js';
import type { RunEvent } from '../../src/model/run-event.js';
import type { Outcome } from '../../src/model/outcome.js';
import { mulberry32 } from '../stats/fixtures.js';

export interface RunSpec {
  readonly runId: string;
  readonly startMs: number;
  readonly flow?: string;
  readonly agent?: string;
  readonly app?: string | null;
  readonly model?: string;
  readonly provider?: string;
  readonly outcome?: Outcome;
  readonly parent?: string;
  /** Durations (ms) of the run's LLM calls, made one after another. */
  readonly calls?: readonly number[];
  readonly tool?: boolean;
  readonly retry?: boolean;
  readonly costPerCall?: number | null;
  readonly tokensPerCall?: number;
  readonly attributes?: RunMeta['attributes'];
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** The events one run makes, as a meter would emit them (ids, order, totals that agree). */
export function runEvents(spec: RunSpec): FlowEvent[] {
  const flow = spec.flow ?? 'support';
  const agent = spec.agent ?? 'triage';
  const model = spec.model ?? 'gpt-4o-mini';
  const provider = spec.provider ?? 'openai';
  const cost = spec.costPerCall === undefined ? 0.001 : spec.costPerCall;
  const tokens = spec.tokensPerCall ?? 150;
  const meta = {
    run_id: spec.runId,
    flow_id: flow,
    task_id: null,
    agent,
    exec_mode: 'live',
    branch: 'main',
    ...(spec.app === undefined || spec.app === null ? {} : { app_id: spec.app }),
    attributes: spec.attributes ?? {},
    ...(spec.parent === undefined ? {} : { parent_run_id: spec.parent }),
  } as RunMeta;
  const events: FlowEvent[] = [{ kind: 'run_started', run: meta, ts: iso(spec.startMs) }];
  let t = spec.startMs;
  const calls = spec.calls ?? [100];
  let i = 0;
  for (const duration of calls) {
    const call: LlmCall = {
      kind: 'llm_call',
      run_id: spec.runId,
      flow_id: flow,
      agent,
      step_id: 'answer',
      provider,
      model,
      phase: 'initial',
      start_ts: iso(t),
      end_ts: iso(t + duration),
      duration_ms: duration,
      ttft_ms: duration / 4,
      input_tokens: tokens - 50,
      output_tokens: 50,
      total_tokens: tokens,
      cached_input_tokens: null,
      cost_usd: cost,
      cost_source: cost === null ? null : 'price_table',
      streaming: true,
      cache_hit: false,
      error_type: i === 0 && spec.outcome === 'provider_error' ? 'rate_limit' : null,
    };
    events.push(call);
    t += duration;
    i++;
  }
  if (spec.retry === true) {
    events.push({ kind: 'retry', run_id: spec.runId, flow_id: flow, agent, step_id: 'answer', reason: 'rate_limit', attempt: 1, backoff_seconds: 0.5, ts: iso(t) });
  }
  if (spec.tool === true) {
    const tool: ToolCall = { kind: 'tool_call', run_id: spec.runId, flow_id: flow, agent, step_id: 'answer', tool: 'search', start_ts: iso(t), end_ts: iso(t + 20), duration_ms: 20, success: true, error: null };
    events.push(tool);
    t += 20;
  }
  events.push({
    kind: 'step_finished',
    run_id: spec.runId,
    flow_id: flow,
    step_id: 'answer',
    agent,
    model,
    exec_mode: 'live',
    start_ts: iso(spec.startMs),
    end_ts: iso(t),
    duration_ms: t - spec.startMs,
    success: true,
    error: null,
  });
  const outcome = spec.outcome ?? 'success';
  const event: RunEvent & { parent_run_id?: string } = {
    run_id: spec.runId,
    task_id: null,
    flow_id: flow,
    agent,
    exec_mode: 'live',
    branch: 'main',
    provider,
    model,
    outcome,
    success: outcome === 'success',
    partial: false,
    started_at: iso(spec.startMs),
    finished_at: iso(t),
    elapsed_seconds: (t - spec.startMs) / 1000,
    input_tokens: (tokens - 50) * calls.length,
    output_tokens: 50 * calls.length,
    total_tokens: tokens * calls.length,
    cached_input_tokens: null,
    cost_usd: cost === null ? null : cost * calls.length,
    limits_exceeded: [],
    retries: spec.retry === true ? 1 : 0,
    retries_by_reason: spec.retry === true ? { rate_limit: 1 } : {},
    retry_backoff_seconds: spec.retry === true ? 0.5 : 0,
    budget_exceeded_during_retry: false,
    llm_calls: calls.length,
    tool_calls: spec.tool === true ? 1 : 0,
    steps: 1,
    error_type: outcome === 'success' ? null : 'rate_limit',
    app_id: spec.app ?? null,
    session_id: null,
    user_id: null,
    attributes: spec.attributes ?? {},
  };
  events.push({ kind: 'run_finished', run: meta, ts: iso(t), event, summary: `Execution time: ${t - spec.startMs}ms` });
  return events;
}

export const T0 = Date.UTC(2026, 10, 2, 10, 0, 0);

/** n runs spread over `spanMs` from T0, with seeded random call latencies (log-normal-ish). */
export function fleet(n: number, spanMs: number, seed = 7): RunSpec[] {
  const random = mulberry32(seed);
  const flows = ['support', 'billing', 'search'];
  const models = ['gpt-4o-mini', 'claude-3-5-haiku-latest'];
  const outcomes: Outcome[] = ['success', 'success', 'success', 'success', 'timeout', 'provider_error'];
  const specs: RunSpec[] = [];
  for (let i = 0; i < n; i++) {
    const calls = 1 + Math.floor(random() * 3);
    specs.push({
      runId: `run-${String(i).padStart(6, '0')}`,
      startMs: T0 + Math.floor((i / n) * spanMs),
      flow: flows[i % flows.length],
      model: models[i % models.length],
      provider: i % 2 === 0 ? 'openai' : 'anthropic',
      app: i % 4 === 0 ? null : 'shop',
      outcome: outcomes[Math.floor(random() * outcomes.length)],
      calls: Array.from({ length: calls }, () => Math.round(Math.exp(3 + random() * 4) * 1000) / 1000),
      tool: random() < 0.3,
      retry: random() < 0.2,
      costPerCall: random() < 0.1 ? null : Math.round(random() * 1e6) / 1e8,
      tokensPerCall: 60 + Math.floor(random() * 2000),
      attributes: i % 5 === 0 ? { expected: random() < 0.5, actual: random() < 0.5 } : {},
    });
  }
  return specs;
}
