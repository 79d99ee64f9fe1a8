import type { FlowEvent, StepFinished, StepStarted, TokensRecorded } from '../../../src/model/index.js';
import { llmCall, retry, runFinished, runMeta, toolCall } from '../../sinks/fixtures.js';

export { llmCall, retry, runFinished, runMeta, toolCall };

export function runStarted(run_id = 'run-1', overrides: Parameters<typeof runMeta>[1] = {}): FlowEvent {
  return { kind: 'run_started', run: runMeta(run_id, overrides), ts: '2025-12-15T04:08:08.000Z' };
}

export function stepStarted(overrides: Partial<StepStarted> = {}): StepStarted {
  return {
    kind: 'step_started',
    run_id: 'run-1',
    flow_id: 'backup',
    step_id: 'plan',
    agent: 'commis',
    model: 'gpt-5-mini',
    ts: '2025-12-15T04:08:08.010Z',
    ...overrides,
  };
}

export function stepFinished(overrides: Partial<StepFinished> = {}): StepFinished {
  return {
    kind: 'step_finished',
    run_id: 'run-1',
    flow_id: 'backup',
    step_id: 'plan',
    agent: 'commis',
    model: 'gpt-5-mini',
    exec_mode: 'live',
    start_ts: '2025-12-15T04:08:08.010Z',
    end_ts: '2025-12-15T04:08:08.860Z',
    duration_ms: 850,
    success: true,
    error: null,
    ...overrides,
  };
}

export function tokens(overrides: Partial<TokensRecorded> = {}): TokensRecorded {
  return {
    kind: 'tokens',
    run_id: 'run-1',
    flow_id: 'backup',
    agent: 'commis',
    step_id: 'act',
    model: 'gpt-4',
    direction: 'in',
    count: 1500,
    cost_usd: 0.045,
    ts: '2025-12-15T04:08:09.000Z',
    ...overrides,
  };
}

/**
 * Two runs of the `backup` flow as the meter emits them.
 *
 * run-1 succeeds in 1.9 s for $0.0031 and 2,000 tokens: step `plan` (850 ms) makes a streamed
 * call (111 ms, TTFT 42 ms, 1234 in / 89 out, $0.0023) that hits a 429, is retried, and
 * calls again (300 ms, not streamed, 400 in / 60 out, $0.0008); step `act` (1,200 ms) runs
 * two tools (ssh_exec ok 1.111 s, http_request failed 40 ms) and spends ARX-style tokens
 * (1500 in, 800 out on gpt-4, unpriced).
 *
 * run-2 times out after 12.5 s, partial, with no known cost or tokens, after two retries
 * outside any step (a timeout, then a server error) and a budget exceeded during retry.
 */
export function twoRuns(): FlowEvent[] {
  return [
    runStarted('run-1'),
    stepStarted({ step_id: 'plan' }),
    llmCall({ step_id: 'plan' }),
    retry({ step_id: 'plan', reason: 'rate_limit' }),
    llmCall({ step_id: 'plan', duration_ms: 300, ttft_ms: null, streaming: false, input_tokens: 400, output_tokens: 60, total_tokens: 460, cost_usd: 0.0008 }),
    stepFinished({ step_id: 'plan', duration_ms: 850 }),
    stepStarted({ step_id: 'act', model: null }),
    toolCall({ step_id: 'act', tool: 'ssh_exec', duration_ms: 1111, success: true }),
    toolCall({ step_id: 'act', tool: 'http_request', duration_ms: 40, success: false, error: 'HTTP 503' }),
    tokens({ direction: 'in', count: 1500, cost_usd: null }),
    tokens({ direction: 'out', count: 800, cost_usd: null }),
    stepFinished({ step_id: 'act', model: null, duration_ms: 1200 }),
    runFinished('run-1', { elapsed_seconds: 1.9, cost_usd: 0.0031, input_tokens: 1634, output_tokens: 149, total_tokens: 2000, retries: 1, retries_by_reason: { rate_limit: 1 } }),
    runStarted('run-2'),
    retry({ run_id: 'run-2', step_id: null, reason: 'timeout' }),
    retry({ run_id: 'run-2', step_id: null, reason: 'server_error' }),
    runFinished('run-2', {
      outcome: 'timeout',
      success: false,
      partial: true,
      elapsed_seconds: 12.5,
      cost_usd: null,
      input_tokens: null,
      output_tokens: null,
      total_tokens: null,
      retries: 2,
      retries_by_reason: { timeout: 1, server_error: 1 },
      budget_exceeded_during_retry: true,
      error_type: null,
    }),
  ];
}
