import { describe, expect, it } from 'vitest';
import type { LlmCall } from '../../src/index.js';
import { llmCallLogfmt, llmCallLogfmtGeneric } from '../../src/sinks/log.js';

const call: LlmCall = {
  kind: 'llm_call', run_id: 'r 1', flow_id: 'triage', agent: 'A', step_id: 'plan', provider: 'openai', model: 'gpt-4o', phase: 'initial',
  start_ts: '2026-11-24T05:00:00.001Z', end_ts: '2026-11-24T05:00:00.101Z', duration_ms: 100.123, ttft_ms: 20.5,
  input_tokens: 1234, output_tokens: 89, total_tokens: 1323, cached_input_tokens: 0, cost_usd: 0.003975, cost_source: 'price_table',
  streaming: true, cache_hit: false, error_type: null,
};

describe('the logfmt fast path for LLM calls', () => {
  it.each([
    ['every field known', call],
    ['unknown tokens, cost and ttft, no step, an error', { ...call, input_tokens: null, output_tokens: null, total_tokens: null, cost_usd: null, ttft_ms: null, step_id: null, error_type: 'rate_limit' }],
    ['values that need quoting', { ...call, phase: 'tool decision', model: 'my "model"', flow_id: '', error_type: 'a=b' }],
  ] as const)('writes the same pairs as the generic field walk: %s', (_name, event) => {
    expect(llmCallLogfmt(event)).toBe(llmCallLogfmtGeneric(event));
  });
});
