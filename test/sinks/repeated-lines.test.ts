import { describe, expect, it } from 'vitest';
import type { LlmCall } from '../../src/index.js';
import { metricsLine } from '../../src/sinks/index.js';
import { eventLine } from '../../src/sinks/event-line.js';
import { llmCallLogfmt, llmCallLogfmtGeneric } from '../../src/sinks/log.js';
import { llmCall } from './fixtures.js';

/** metrics.jsonl's contract, written the slow way: zerg's keys first, measured values only. */
function expectedMetricsLine(e: LlmCall): string {
  const line: Record<string, unknown> = { event: 'llm_call', phase: e.phase, model: e.model, start_ts: e.start_ts, end_ts: e.end_ts, duration_ms: e.duration_ms };
  if (e.input_tokens !== null) line.prompt_tokens = e.input_tokens;
  if (e.output_tokens !== null) line.completion_tokens = e.output_tokens;
  if (e.total_tokens !== null) line.total_tokens = e.total_tokens;
  line.provider = e.provider;
  line.run_id = e.run_id;
  if (e.step_id !== null) line.step_id = e.step_id;
  if (e.ttft_ms !== null) line.ttft_ms = e.ttft_ms;
  if (e.cached_input_tokens !== null) line.cached_input_tokens = e.cached_input_tokens;
  if (e.cost_usd !== null) line.cost_usd = e.cost_usd;
  if (e.cost_source !== null) line.cost_source = e.cost_source;
  line.streaming = e.streaming;
  line.cache_hit = e.cache_hit;
  if (e.error_type !== null) line.error_type = e.error_type;
  return JSON.stringify(line);
}

function expectFreshLines(e: LlmCall): void {
  expect(metricsLine(e)).toBe(expectedMetricsLine(e));
  expect(eventLine(e)).toBe(JSON.stringify(e));
  expect(llmCallLogfmt(e)).toBe(llmCallLogfmtGeneric(e));
}

const base = llmCall();

// One field changed at a time: each remembered run of keys must notice its own fields.
const variants: [string, Partial<LlmCall>][] = [
  ['run_id', { run_id: 'run-2' }],
  ['flow_id', { flow_id: 'restore' }],
  ['agent', { agent: 'sous-chef' }],
  ['step_id', { step_id: 'act' }],
  ['no step_id', { step_id: null }],
  ['provider', { provider: 'anthropic' }],
  ['model', { model: 'gpt-4o' }],
  ['phase', { phase: 'summary' }],
  ['start_ts', { start_ts: '2025-12-15T04:08:08.124Z' }],
  ['end_ts', { end_ts: '2025-12-15T04:08:08.235Z' }],
  ['duration_ms', { duration_ms: 0.001 }],
  ['ttft_ms', { ttft_ms: null }],
  ['tokens', { input_tokens: 7, output_tokens: null, total_tokens: null, cached_input_tokens: 0 }],
  ['cost', { cost_usd: null, cost_source: null }],
  ['cost_source', { cost_source: 'provider' }],
  ['streaming', { streaming: false }],
  ['cache_hit', { cache_hit: true }],
  ['error_type', { error_type: 'rate_limit' }],
  ['values that need escaping', { model: 'my "model"\n', phase: 'tool decision', step_id: 'a\\b', error_type: 'a=b' }],
];

describe('LLM-call lines built from remembered pieces', () => {
  it.each(variants)('writes a call that differs from the last in %s as if it were the first', (_name, change) => {
    expectFreshLines(base);
    expectFreshLines(llmCall(change));
    expectFreshLines(base);
  });

  it('writes every call of a long alternating sequence exactly', () => {
    for (let i = 0; i < 50; i++) {
      const [, change] = variants[(i * 7) % variants.length]!;
      expectFreshLines(llmCall(i % 3 === 0 ? {} : change));
    }
  });

  it('gives equal strings the same text whether or not they are the same object', () => {
    const model = ['gpt', '5', 'mini'].join('-');
    expectFreshLines(base);
    expectFreshLines(llmCall({ model }));
  });
});
