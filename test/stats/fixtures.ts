import type { RunEvent } from '../../src/model/run-event.js';

/** A finished, successful one-second run; override only what a test is about. */
export function runEvent(overrides: Partial<RunEvent> = {}): RunEvent {
  return {
    run_id: 'run-1',
    task_id: null,
    flow_id: 'support',
    agent: 'triage',
    exec_mode: 'live',
    branch: 'main',
    provider: 'openai',
    model: 'gpt-4o-mini',
    outcome: 'success',
    success: true,
    partial: false,
    started_at: '2025-01-01T00:00:00.000Z',
    finished_at: '2025-01-01T00:00:01.000Z',
    elapsed_seconds: 1,
    input_tokens: 100,
    output_tokens: 50,
    total_tokens: 150,
    cached_input_tokens: null,
    cost_usd: 0.001,
    limits_exceeded: [],
    retries: 0,
    retries_by_reason: {},
    retry_backoff_seconds: 0,
    budget_exceeded_during_retry: false,
    llm_calls: 1,
    tool_calls: 0,
    steps: 1,
    error_type: null,
    app_id: null,
    session_id: null,
    user_id: null,
    attributes: {},
    ...overrides,
  };
}

/** mulberry32: a tiny seeded PRNG, so every run of the suite sees the same data. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal draw (Box–Muller); `1 - random()` keeps the logarithm finite. */
export function normal(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/**
 * The exact quantile under DDSketch's rank rule: rank = q * (count - 1), taking the lower
 * neighbour (the library's `keyAtRank(rank, lower = true)`), with no interpolation.
 */
export function exactQuantile(sorted: readonly number[], q: number): number {
  const value = sorted[Math.floor(q * (sorted.length - 1))];
  if (value === undefined) throw new Error('exactQuantile of an empty sample');
  return value;
}

export function relativeError(estimate: number, exact: number): number {
  if (exact === 0) return estimate === 0 ? 0 : Infinity;
  return Math.abs(estimate - exact) / Math.abs(exact);
}
