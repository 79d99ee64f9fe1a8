import { describe, expect, it } from 'vitest';
import type { FlowEvent } from '../../src/index.js';
import { eventLine } from '../../src/sinks/event-line.js';

const base = { run_id: 'r-1', flow_id: 'triage', agent: 'SUPPORT_AI' };
const tricky = 'quote " backslash \\ newline \n tab \t unicode é ☃ lone \ud800 end';

const events: FlowEvent[] = [
  { kind: 'run_started', ts: '2026-11-24T05:00:00.000Z', run: { ...base, task_id: null, exec_mode: 'live', branch: 'main', attributes: { a: 1 } } },
  { kind: 'step_started', ...base, step_id: 'plan', model: null, ts: '2026-11-24T05:00:00.001Z' },
  {
    kind: 'llm_call', ...base, step_id: 'plan', provider: 'openai', model: 'gpt-4o', phase: 'initial',
    start_ts: '2026-11-24T05:00:00.001Z', end_ts: '2026-11-24T05:00:00.101Z', duration_ms: 100.123, ttft_ms: 20.5,
    input_tokens: 1234, output_tokens: 89, total_tokens: 1323, cached_input_tokens: 0, cost_usd: 0.003975, cost_source: 'price_table',
    streaming: true, cache_hit: false, error_type: null,
  },
  {
    kind: 'llm_call', ...base, run_id: tricky, step_id: null, provider: tricky, model: tricky, phase: tricky,
    start_ts: tricky, end_ts: 'not-a-timestamp-"quoted"', duration_ms: Number.NaN, ttft_ms: null,
    input_tokens: null, output_tokens: null, total_tokens: null, cached_input_tokens: null, cost_usd: null, cost_source: null,
    streaming: false, cache_hit: true, error_type: 'rate_limit',
  },
  { kind: 'tool_call', ...base, step_id: null, tool: 'search', start_ts: '2026-11-24T05:00:00.101Z', end_ts: '2026-11-24T05:00:00.201Z', duration_ms: 100, success: false, error: tricky },
  { kind: 'retry', ...base, step_id: 'plan', reason: 'rate_limit', attempt: 2, backoff_seconds: 0.5, ts: '2026-11-24T05:00:00.300Z' },
  { kind: 'tokens', ...base, step_id: null, model: 'gpt-4', direction: 'in', count: 1500, cost_usd: null, ts: '2026-11-24T05:00:00.400Z' },
  {
    kind: 'step_finished', ...base, step_id: 'plan', model: 'gpt-4o', exec_mode: 'dry_run', start_ts: '2026-11-24T05:00:00.001Z',
    end_ts: '2026-11-24T05:00:00.500Z', duration_ms: 499, success: true, error: null,
  },
];

describe('eventLine (events.jsonl)', () => {
  it.each(events.map((e, i) => [`${e.kind} #${i}`, e] as const))('writes %s as valid JSON equal to JSON.stringify of the event', (_name, event) => {
    const line = eventLine(event);
    expect(line).not.toContain('\n');
    expect(JSON.parse(line)).toEqual(JSON.parse(JSON.stringify(event)));
  });

  it('writes a non-finite duration as null, as JSON.stringify does, instead of a broken line', () => {
    const line = eventLine(events[3]!);
    expect((JSON.parse(line) as { duration_ms: unknown }).duration_ms).toBeNull();
  });
});
