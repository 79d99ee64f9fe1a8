import type { FlowEvent, LlmCall, RunMeta } from '../src/model/index.js';
import type { RunEvent } from '../src/model/run-event.js';

/** Deterministic PRNG (mulberry32), so every run of the benchmark writes the same data. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FLOWS = ['support', 'billing', 'search', 'triage', 'research'];
const MODELS = ['gpt-4o-mini', 'gpt-4o', 'claude-3-5-haiku-latest', 'claude-sonnet-4-5'];
const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * The events of `runs` runs with `callsPerRun` LLM calls each, spread evenly over
 * `spanMs` ending at `endMs`: a realistic mix of flows, models, apps and latencies.
 */
export function* benchEvents(runs: number, callsPerRun: number, spanMs: number, endMs: number, seed = 11): Generator<FlowEvent[]> {
  const random = prng(seed);
  const start = endMs - spanMs;
  for (let r = 0; r < runs; r++) {
    const runId = `bench-${seed}-${r}`;
    const flow = FLOWS[r % FLOWS.length] ?? 'support';
    const model = MODELS[Math.floor(random() * MODELS.length)] ?? 'gpt-4o-mini';
    const t0 = start + Math.floor((r / runs) * spanMs);
    const meta: RunMeta = { run_id: runId, flow_id: flow, task_id: null, agent: 'agent', exec_mode: 'live', branch: 'main', app_id: r % 3 === 0 ? 'web' : 'mobile', attributes: {} };
    const events: FlowEvent[] = [{ kind: 'run_started', run: meta, ts: iso(t0) }];
    let t = t0;
    let tokens = 0;
    let cost = 0;
    for (let c = 0; c < callsPerRun; c++) {
      const duration = Math.round(Math.exp(4 + random() * 4) * 100) / 100;
      const input = 50 + Math.floor(random() * 3000);
      const output = 10 + Math.floor(random() * 800);
      const price = (input * 0.15 + output * 0.6) / 1e6;
      const call: LlmCall = {
        kind: 'llm_call',
        run_id: runId,
        flow_id: flow,
        agent: 'agent',
        step_id: 'step',
        provider: model.startsWith('gpt') ? 'openai' : 'anthropic',
        model,
        phase: 'initial',
        start_ts: iso(t),
        end_ts: iso(t + duration),
        duration_ms: duration,
        ttft_ms: duration / 5,
        input_tokens: input,
        output_tokens: output,
        total_tokens: input + output,
        cached_input_tokens: null,
        cost_usd: price,
        cost_source: 'price_table',
        streaming: true,
        cache_hit: false,
        error_type: random() < 0.02 ? 'rate_limit' : null,
      };
      events.push(call);
      t += duration;
      tokens += input + output;
      cost += price;
    }
    const event: RunEvent = {
      run_id: runId,
      task_id: null,
      flow_id: flow,
      agent: 'agent',
      exec_mode: 'live',
      branch: 'main',
      provider: model.startsWith('gpt') ? 'openai' : 'anthropic',
      model,
      outcome: random() < 0.95 ? 'success' : 'timeout',
      success: true,
      partial: false,
      started_at: iso(t0),
      finished_at: iso(t),
      elapsed_seconds: (t - t0) / 1000,
      input_tokens: null,
      output_tokens: null,
      total_tokens: tokens,
      cached_input_tokens: null,
      cost_usd: cost,
      limits_exceeded: [],
      retries: 0,
      retries_by_reason: {},
      retry_backoff_seconds: 0,
      budget_exceeded_during_retry: false,
      llm_calls: callsPerRun,
      tool_calls: 0,
      steps: 1,
      error_type: null,
      app_id: meta.app_id ?? null,
      session_id: null,
      user_id: null,
      attributes: {},
    };
    events.push({ kind: 'run_finished', run: meta, ts: iso(t), event, summary: '' });
    yield events;
  }
}
