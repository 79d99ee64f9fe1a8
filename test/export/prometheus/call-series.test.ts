import { describe, expect, it } from 'vitest';
import { PrometheusView } from '../../../src/export/prometheus/index.js';
import { llmCall } from './fixtures.js';
import { parseExposition, valueOf } from './parse.js';

describe('the default profile recording LLM calls', () => {
  it('records calls that repeat or alternate label sets into their own series', () => {
    const view = new PrometheusView();
    const models = ['a', 'a', 'b', 'a', 'b', 'b', 'c', 'a'];
    for (const [i, model] of models.entries()) view.record(llmCall({ model, agent: i % 3 === 0 ? 'x' : 'y', input_tokens: i, output_tokens: 1, cost_usd: 0.5 }));
    const m = parseExposition(view.render('text'));
    expect(valueOf(m, 'flowmeter_llm_request_duration_seconds_count', { provider: 'openai', model: 'a' })).toBe(4);
    expect(valueOf(m, 'flowmeter_llm_request_duration_seconds_count', { provider: 'openai', model: 'b' })).toBe(3);
    // input tokens: model a at i = 0 (x), 1 (y), 3 (x), 7 (y)
    expect(valueOf(m, 'flowmeter_tokens_total', { direction: 'input', model: 'a', agent: 'x' })).toBe(0 + 3);
    expect(valueOf(m, 'flowmeter_tokens_total', { direction: 'input', model: 'a', agent: 'y' })).toBe(1 + 7);
    expect(valueOf(m, 'flowmeter_cost_usd_total', { model: 'b', agent: 'y' })).toBe(1.5);
    expect(valueOf(m, 'flowmeter_llm_time_to_first_token_seconds_count', { provider: 'openai', model: 'c' })).toBe(1);
  });

  it('counts every overflowed lookup the family itself counts, repeated label sets included', () => {
    // One series allowed: the family's lookup cache keeps 4 raw label sets, so model m1..m3
    // are counted once each and m4, past the cache, on every call.
    const view = new PrometheusView({ maxSeriesPerMetric: 1 });
    for (const model of ['m0', 'm1', 'm1', 'm2', 'm3', 'm4', 'm4', 'm4', 'm1']) view.record(llmCall({ model, ttft_ms: null, output_tokens: null, cost_usd: null }));
    const m = parseExposition(view.render('text'));
    expect(valueOf(m, 'flowmeter_label_overflow_total', { metric: 'flowmeter_llm_request_duration_seconds' })).toBe(6);
    expect(valueOf(m, 'flowmeter_llm_request_duration_seconds_count', { provider: '__overflow__', model: '__overflow__' })).toBe(8);
    expect(valueOf(m, 'flowmeter_llm_request_duration_seconds_count', { provider: 'openai', model: 'm0' })).toBe(1);
  });
});
