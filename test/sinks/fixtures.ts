import type { LlmCall, Retry, RunEvent, RunFinished, RunMeta, RunStarted, ToolCall } from '../../src/model/index.js';

/** Small builders for sink tests: a realistic event, with overrides for what a test is about. */

export function runMeta(run_id = 'run-1', overrides: Partial<RunMeta> = {}): RunMeta {
  return {
    run_id,
    flow_id: 'backup',
    task_id: null,
    agent: 'commis',
    exec_mode: 'live',
    branch: 'main',
    attributes: {},
    ...overrides,
  };
}

export function runStarted(run_id = 'run-1'): RunStarted {
  return { kind: 'run_started', run: runMeta(run_id), ts: '2025-12-15T04:08:08.000Z' };
}

export function llmCall(overrides: Partial<LlmCall> = {}): LlmCall {
  return {
    kind: 'llm_call',
    run_id: 'run-1',
    flow_id: 'backup',
    agent: 'commis',
    step_id: 'plan',
    provider: 'openai',
    model: 'gpt-5-mini',
    phase: 'initial',
    start_ts: '2025-12-15T04:08:08.123Z',
    end_ts: '2025-12-15T04:08:08.234Z',
    duration_ms: 111,
    ttft_ms: 42,
    input_tokens: 1234,
    output_tokens: 89,
    total_tokens: 1323,
    cached_input_tokens: 1000,
    cost_usd: 0.0023,
    cost_source: 'price_table',
    streaming: true,
    cache_hit: false,
    error_type: null,
    ...overrides,
  };
}

export function toolCall(overrides: Partial<ToolCall> = {}): ToolCall {
  return {
    kind: 'tool_call',
    run_id: 'run-1',
    flow_id: 'backup',
    agent: 'commis',
    step_id: 'plan',
    tool: 'ssh_exec',
    start_ts: '2025-12-15T04:08:08.345Z',
    end_ts: '2025-12-15T04:08:09.456Z',
    duration_ms: 1111,
    success: true,
    error: null,
    ...overrides,
  };
}

export function retry(overrides: Partial<Retry> = {}): Retry {
  return {
    kind: 'retry',
    run_id: 'run-1',
    flow_id: 'backup',
    agent: 'commis',
    step_id: 'plan',
    reason: 'rate_limit',
    attempt: 1,
    backoff_seconds: 0.5,
    ts: '2025-12-15T04:08:08.300Z',
    ...overrides,
  };
}

export function runEvent(overrides: Partial<RunEvent> = {}): RunEvent {
  return {
    run_id: 'run-1',
    task_id: null,
    flow_id: 'backup',
    agent: 'commis',
    exec_mode: 'live',
    branch: 'main',
    provider: 'openai',
    model: 'gpt-5-mini',
    outcome: 'success',
    success: true,
    partial: false,
    started_at: '2025-12-15T04:08:08.000Z',
    finished_at: '2025-12-15T04:08:08.098Z',
    elapsed_seconds: 0.098,
    input_tokens: 1234,
    output_tokens: 89,
    total_tokens: 1323,
    cached_input_tokens: null,
    cost_usd: 0.0023,
    limits_exceeded: [],
    retries: 0,
    retries_by_reason: {},
    retry_backoff_seconds: 0,
    budget_exceeded_during_retry: false,
    llm_calls: 2,
    tool_calls: 1,
    steps: 1,
    error_type: null,
    app_id: null,
    session_id: null,
    user_id: null,
    attributes: {},
    ...overrides,
  };
}

export function runFinished(run_id = 'run-1', overrides: Partial<RunEvent> = {}): RunFinished {
  return {
    kind: 'run_finished',
    run: runMeta(run_id),
    ts: '2025-12-15T04:08:09.700Z',
    event: runEvent({ run_id, ...overrides }),
    summary: 'Execution time: 98ms | outcome: success',
  };
}
