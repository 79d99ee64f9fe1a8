import { describe, expect, it } from 'vitest';
import { PrometheusView } from '../../../src/export/prometheus/index.js';
import type { FlowEvent } from '../../../src/model/index.js';
import { llmCall, runFinished, runStarted, stepFinished, stepStarted, twoRuns } from './fixtures.js';
import { parseExposition, valueOf } from './parse.js';
import type { Exposition } from './parse.js';

function scrape(view: PrometheusView, events: readonly FlowEvent[] = []): Exposition {
  for (const event of events) view.record(event);
  return parseExposition(view.render('text'));
}

const RUN = { flow_id: 'backup', agent: 'commis' };

describe('the default profile, fed two realistic runs', () => {
  const m = scrape(new PrometheusView(), twoRuns());
  const v = (name: string, labels: Record<string, string> = {}): number | undefined => valueOf(m, name, labels);

  it('counts runs started and finished by outcome and partial', () => {
    expect(v('flowmeter_runs_started_total', RUN)).toBe(2);
    expect(v('flowmeter_runs_finished_total', { ...RUN, outcome: 'success', partial: 'false' })).toBe(1);
    expect(v('flowmeter_runs_finished_total', { ...RUN, outcome: 'timeout', partial: 'true' })).toBe(1);
  });

  it('observes run duration for both runs, but cost and tokens only for the run that knows them', () => {
    expect(v('flowmeter_run_duration_seconds_count', RUN)).toBe(2);
    expect(v('flowmeter_run_duration_seconds_sum', RUN)).toBeCloseTo(14.4, 9);
    expect(v('flowmeter_run_cost_usd_count', RUN)).toBe(1);
    expect(v('flowmeter_run_cost_usd_sum', RUN)).toBeCloseTo(0.0031, 12);
    expect(v('flowmeter_run_tokens_count', RUN)).toBe(1);
    expect(v('flowmeter_run_tokens_sum', RUN)).toBe(2000);
    expect(v('flowmeter_runs_cost_unknown_total', RUN)).toBe(1);
    expect(v('flowmeter_budget_exceeded_during_retry_total', RUN)).toBe(1);
  });

  it('times steps in seconds by flow, step, model and exec mode, with a missing model as none', () => {
    expect(v('flowmeter_step_duration_seconds_sum', { flow_id: 'backup', step_id: 'plan', model: 'gpt-5-mini', exec_mode: 'live' })).toBeCloseTo(0.85, 12);
    expect(v('flowmeter_step_duration_seconds_count', { flow_id: 'backup', step_id: 'act', model: 'none', exec_mode: 'live' })).toBe(1);
    expect(v('flowmeter_inflight_steps', { flow_id: 'backup' })).toBe(0);
  });

  it('counts retries by step and reason, with a retry outside a step under step_id none', () => {
    expect(v('flowmeter_step_retries_total', { flow_id: 'backup', step_id: 'plan', reason: 'rate_limit' })).toBe(1);
    expect(v('flowmeter_step_retries_total', { flow_id: 'backup', step_id: 'none', reason: 'timeout' })).toBe(1);
    expect(v('flowmeter_step_retries_total', { flow_id: 'backup', step_id: 'none', reason: 'server_error' })).toBe(1);
  });

  it('adds tokens from calls and from loose tokens by direction, model and agent', () => {
    expect(v('flowmeter_tokens_total', { direction: 'input', model: 'gpt-5-mini', agent: 'commis' })).toBe(1634);
    expect(v('flowmeter_tokens_total', { direction: 'output', model: 'gpt-5-mini', agent: 'commis' })).toBe(149);
    expect(v('flowmeter_tokens_total', { direction: 'input', model: 'gpt-4', agent: 'commis' })).toBe(1500);
    expect(v('flowmeter_tokens_total', { direction: 'output', model: 'gpt-4', agent: 'commis' })).toBe(800);
  });

  it('adds cost only where it is known', () => {
    expect(v('flowmeter_cost_usd_total', { model: 'gpt-5-mini', agent: 'commis' })).toBeCloseTo(0.0031, 12);
    expect(v('flowmeter_cost_usd_total', { model: 'gpt-4', agent: 'commis' })).toBeUndefined();
  });

  it('times LLM requests, time to first token only for the streamed call, and tools by success', () => {
    expect(v('flowmeter_llm_request_duration_seconds_count', { provider: 'openai', model: 'gpt-5-mini' })).toBe(2);
    expect(v('flowmeter_llm_request_duration_seconds_sum', { provider: 'openai', model: 'gpt-5-mini' })).toBeCloseTo(0.411, 12);
    expect(v('flowmeter_llm_time_to_first_token_seconds_count', { provider: 'openai', model: 'gpt-5-mini' })).toBe(1);
    expect(v('flowmeter_llm_time_to_first_token_seconds_sum', { provider: 'openai', model: 'gpt-5-mini' })).toBeCloseTo(0.042, 12);
    expect(v('flowmeter_tool_call_duration_seconds_sum', { tool: 'ssh_exec', success: 'true' })).toBeCloseTo(1.111, 12);
    expect(v('flowmeter_tool_call_duration_seconds_count', { tool: 'http_request', success: 'false' })).toBe(1);
  });
});

describe('the arx profile, fed two realistic runs', () => {
  const m = scrape(new PrometheusView({ profiles: ['arx'] }), twoRuns());
  const flow = { flow_id: 'backup', persona: 'commis', exec_mode: 'live', branch: 'main' };

  it('counts flows started, succeeded and failed, the reason being the outcome when there is no error class', () => {
    expect(valueOf(m, 'ar_flow_started_total', flow)).toBe(2);
    expect(valueOf(m, 'ar_flow_success_total', flow)).toBe(1);
    expect(valueOf(m, 'ar_flow_fail_total', { ...flow, reason: 'timeout' })).toBe(1);
  });

  it('gives the error class as the reason when the run has one', () => {
    const view = new PrometheusView({ profiles: ['arx'] });
    const failed = scrape(view, [runStarted(), runFinished('run-1', { outcome: 'tool_error', success: false, error_type: 'ToolError' })]);
    expect(valueOf(failed, 'ar_flow_fail_total', { ...flow, reason: 'ToolError' })).toBe(1);
  });

  it('times steps in milliseconds with persona and model', () => {
    expect(valueOf(m, 'ar_step_latency_ms_sum', { flow_id: 'backup', step_id: 'plan', persona: 'commis', model: 'gpt-5-mini', exec_mode: 'live' })).toBe(850);
    expect(valueOf(m, 'ar_step_latency_ms_sum', { flow_id: 'backup', step_id: 'act', persona: 'commis', model: 'none', exec_mode: 'live' })).toBe(1200);
  });

  it('counts retries per step and tokens as in and out', () => {
    expect(valueOf(m, 'ar_step_retries_total', { flow_id: 'backup', step_id: 'plan', persona: 'commis' })).toBe(1);
    expect(valueOf(m, 'ar_step_retries_total', { flow_id: 'backup', step_id: 'none', persona: 'commis' })).toBe(2);
    expect(valueOf(m, 'ar_tokens_total', { direction: 'in', model: 'gpt-5-mini', persona: 'commis' })).toBe(1634);
    expect(valueOf(m, 'ar_tokens_total', { direction: 'out', model: 'gpt-5-mini', persona: 'commis' })).toBe(149);
    expect(valueOf(m, 'ar_tokens_total', { direction: 'out', model: 'gpt-4', persona: 'commis' })).toBe(800);
    expect(valueOf(m, 'ar_inflight_steps', { flow_id: 'backup' })).toBe(0);
  });
});

describe('the enzu profile, fed two realistic runs', () => {
  const m = scrape(new PrometheusView({ profiles: ['enzu'] }), twoRuns());

  it('counts runs, unknown costs, retries by reason and budget hits during retry', () => {
    expect(valueOf(m, 'enzu_runs_total', { outcome: 'success', partial: '0' })).toBe(1);
    expect(valueOf(m, 'enzu_runs_total', { outcome: 'timeout', partial: '1' })).toBe(1);
    expect(valueOf(m, 'enzu_runs_cost_unknown_total')).toBe(1);
    expect(valueOf(m, 'enzu_retries_total', { reason: 'rate_limit' })).toBe(1);
    expect(valueOf(m, 'enzu_retries_total', { reason: 'timeout' })).toBe(1);
    expect(valueOf(m, 'enzu_retries_total', { reason: 'server_error' })).toBe(1);
    expect(valueOf(m, 'enzu_budget_exceeded_during_retry_total')).toBe(1);
  });

  it('observes per-run histograms, skipping what the run did not measure', () => {
    expect(valueOf(m, 'enzu_run_elapsed_seconds_count')).toBe(2);
    expect(valueOf(m, 'enzu_run_elapsed_seconds_sum')).toBeCloseTo(14.4, 9);
    expect(valueOf(m, 'enzu_run_total_tokens_count')).toBe(1);
    expect(valueOf(m, 'enzu_run_input_tokens_sum')).toBe(1634);
    expect(valueOf(m, 'enzu_run_output_tokens_sum')).toBe(149);
    expect(valueOf(m, 'enzu_run_retries_sum')).toBe(3);
    expect(valueOf(m, 'enzu_run_retries_bucket', { le: '0' })).toBe(0);
    expect(valueOf(m, 'enzu_run_retries_bucket', { le: '1' })).toBe(1);
    expect(valueOf(m, 'enzu_run_retries_bucket', { le: '2' })).toBe(2);
  });
});

describe('an unknown cost', () => {
  it('is not observed as 0 in any cost histogram', () => {
    const m = scrape(new PrometheusView({ profiles: ['default', 'enzu'] }), [runStarted(), runFinished('run-1', { cost_usd: null })]);
    // A 0 would land in the lowest bucket and drag every percentile down.
    expect(valueOf(m, 'enzu_run_cost_usd_bucket', { le: '0.0001' })).toBe(0);
    expect(valueOf(m, 'enzu_run_cost_usd_count')).toBe(0);
    expect(valueOf(m, 'flowmeter_run_cost_usd_count', RUN)).toBeUndefined();
    expect(valueOf(m, 'enzu_runs_cost_unknown_total')).toBe(1);
    expect(valueOf(m, 'flowmeter_runs_cost_unknown_total', RUN)).toBe(1);
  });

  it('adds nothing to the cost counter of a call', () => {
    const m = scrape(new PrometheusView(), [llmCall({ cost_usd: null, cost_source: null })]);
    expect(valueOf(m, 'flowmeter_cost_usd_total', { model: 'gpt-5-mini', agent: 'commis' })).toBeUndefined();
  });
});

describe('in-flight steps', () => {
  it('go up on step_started and down on step_finished, per flow', () => {
    const view = new PrometheusView({ profiles: ['default', 'arx'] });
    let m = scrape(view, [stepStarted({ step_id: 'a' }), stepStarted({ step_id: 'b' }), stepStarted({ flow_id: 'other' })]);
    expect(valueOf(m, 'flowmeter_inflight_steps', { flow_id: 'backup' })).toBe(2);
    expect(valueOf(m, 'ar_inflight_steps', { flow_id: 'other' })).toBe(1);
    m = scrape(view, [stepFinished({ step_id: 'a' })]);
    expect(valueOf(m, 'flowmeter_inflight_steps', { flow_id: 'backup' })).toBe(1);
    expect(valueOf(m, 'ar_inflight_steps', { flow_id: 'backup' })).toBe(1);
  });

  it('never go below zero when the view sees an end without its start', () => {
    const m = scrape(new PrometheusView({ profiles: ['default', 'arx'] }), [stepFinished()]);
    expect(valueOf(m, 'flowmeter_inflight_steps', { flow_id: 'backup' })).toBe(0);
    expect(valueOf(m, 'ar_inflight_steps', { flow_id: 'backup' })).toBe(0);
  });
});

describe('bad values', () => {
  it('drops a NaN cost and negative tokens, counts them per metric and reason, and keeps the rest of the call', () => {
    const m = scrape(new PrometheusView(), [llmCall({ cost_usd: Number.NaN, input_tokens: -5 })]);
    expect(valueOf(m, 'flowmeter_cost_usd_total', { model: 'gpt-5-mini', agent: 'commis' })).toBe(0);
    expect(valueOf(m, 'flowmeter_dropped_values_total', { metric: 'flowmeter_cost_usd_total', reason: 'nan' })).toBe(1);
    expect(valueOf(m, 'flowmeter_tokens_total', { direction: 'input', model: 'gpt-5-mini', agent: 'commis' })).toBe(0);
    expect(valueOf(m, 'flowmeter_dropped_values_total', { metric: 'flowmeter_tokens_total', reason: 'negative' })).toBe(1);
    expect(valueOf(m, 'flowmeter_tokens_total', { direction: 'output', model: 'gpt-5-mini', agent: 'commis' })).toBe(89);
  });

  it('drops a NaN duration from a histogram without touching its count', () => {
    const m = scrape(new PrometheusView({ profiles: ['arx'] }), [stepFinished({ duration_ms: Number.NaN })]);
    expect(valueOf(m, 'ar_step_latency_ms_count', { flow_id: 'backup', step_id: 'plan', persona: 'commis', model: 'gpt-5-mini', exec_mode: 'live' })).toBe(0);
    expect(valueOf(m, 'flowmeter_dropped_values_total', { metric: 'ar_step_latency_ms', reason: 'nan' })).toBe(1);
  });
});

describe('record', () => {
  it('never throws on a malformed event and counts it', () => {
    const view = new PrometheusView({ profiles: ['default', 'arx', 'enzu'] });
    expect(() => view.record(null as unknown as FlowEvent)).not.toThrow();
    expect(() => view.record({ kind: 'run_started' } as unknown as FlowEvent)).not.toThrow();
    expect(view.rejectedEvents).toBe(2);
    expect(() => view.render('text')).not.toThrow();
  });

  it('ignores an event kind it does not know', () => {
    const view = new PrometheusView();
    view.record({ kind: 'from_the_future' } as unknown as FlowEvent);
    expect(view.rejectedEvents).toBe(0);
  });
});

describe('diagnostics', () => {
  it('are read at each render into dropped-event and sink-error counters', () => {
    let snapshot = { dropped_events: 3, sink_errors: { jsonl: 2 } as Record<string, number> };
    const view = new PrometheusView({ diagnostics: () => snapshot });
    let m = parseExposition(view.render('text'));
    expect(valueOf(m, 'flowmeter_dropped_events_total')).toBe(3);
    expect(valueOf(m, 'flowmeter_sink_errors_total', { sink: 'jsonl' })).toBe(2);
    snapshot = { dropped_events: 5, sink_errors: { jsonl: 2, log: 1 } };
    m = parseExposition(view.render('openmetrics'));
    expect(valueOf(m, 'flowmeter_dropped_events_total')).toBe(5);
    expect(valueOf(m, 'flowmeter_sink_errors_total', { sink: 'log' })).toBe(1);
  });

  it('do not break the scrape when the callback throws', () => {
    const view = new PrometheusView({
      diagnostics: () => {
        throw new Error('boom');
      },
    });
    expect(valueOf(parseExposition(view.render('text')), 'flowmeter_dropped_events_total')).toBe(0);
  });
});
