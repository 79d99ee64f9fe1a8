import { describe, expect, it } from 'vitest';
import type { MeterOptions } from '../../src/meter/index.js';
import { PRICED_MODEL, harness, nextMacrotask, openAiResponse } from './fixtures.js';

describe.each<[string, MeterOptions]>([
  ['enabled: false', { enabled: false }],
  ['FLOWMETER_ENABLE_METRICS=0', { env: { FLOWMETER_ENABLE_METRICS: '0' } }],
  ['AR_ENABLE_METRICS=0', { env: { AR_ENABLE_METRICS: '0' } }],
  ['FLOWMETER_ENABLE_METRICS=off', { env: { FLOWMETER_ENABLE_METRICS: 'off' } }],
])('metrics off (%s)', (_label, options) => {
  it('still runs the function and returns its value, with no event and no summary', async () => {
    const { meter, sink } = harness(options);
    expect(meter.enabled).toBe(false);
    let ran = false;
    const result = await meter.runSettled({ runId: 'r' }, async (run) => {
      ran = true;
      const answer = await meter.llmCall({ model: PRICED_MODEL }, () => openAiResponse(5, 5));
      await run.step('s', () => run.toolCall('t', () => 1));
      run.retry('rate_limit');
      run.tokensIn(PRICED_MODEL, 10);
      run.setOutcome('verification_failed');
      return answer.usage;
    });
    expect(ran).toBe(true);
    expect(result).toMatchObject({ ok: true, value: { prompt_tokens: 5 } });
    expect(result.event).toBeUndefined();
    expect(result.summary).toBeUndefined();
    await nextMacrotask();
    expect(sink.events).toEqual([]);
    expect(meter.snapshot().total_runs).toBe(0);
  });

  it('hands back the function error unchanged', async () => {
    const { meter } = harness(options);
    const error = new Error('boom');
    const result = await meter.runSettled({}, () => {
      throw error;
    });
    expect(result).toEqual({ ok: false, error });
  });

  it('gives flowStart a run that records nothing and ends with undefined', async () => {
    const { meter, sink } = harness(options);
    const run = meter.flowStart('my_flow', 'CODER_AI', 'dry_run', 'main');
    run.stepTimer('s').end();
    run.tokensOut(PRICED_MODEL, 3);
    expect(run.flowEnd(true)).toBeUndefined();
    expect(run.signal.aborted).toBe(false);
    await nextMacrotask();
    expect(sink.events).toEqual([]);
    expect(meter.inflightSteps().size).toBe(0);
  });

  it('calls through outside any run and counts nothing', async () => {
    const { meter } = harness(options);
    await expect(meter.llmCall({ model: PRICED_MODEL }, (call) => (call.signal.aborted ? 'aborted' : 'called'))).resolves.toBe('called');
    await expect(meter.toolCall('t', () => 2)).resolves.toBe(2);
    meter.retry('timeout');
    expect(meter.diagnostics()).toEqual({ dropped_values: {}, dropped_events: 0, sink_errors: {}, late_events: 0, unattributed_calls: 0, internal_errors: 0, store: null });
  });

  it('installs no exit listener', async () => {
    const before = process.listenerCount('exit');
    const meters = Array.from({ length: 20 }, () => harness(options).meter);
    expect(process.listenerCount('exit')).toBeLessThanOrEqual(before);
    await Promise.all(meters.map((m) => m.close()));
  });
});

describe('switching metrics on and off', () => {
  it('lets the enabled option win over the environment', () => {
    expect(harness({ enabled: true, env: { FLOWMETER_ENABLE_METRICS: '0' } }).meter.enabled).toBe(true);
  });

  it('lets FLOWMETER_ENABLE_METRICS win over its ARX alias', () => {
    expect(harness({ env: { FLOWMETER_ENABLE_METRICS: '1', AR_ENABLE_METRICS: '0' } }).meter.enabled).toBe(true);
    expect(harness({ env: { FLOWMETER_ENABLE_METRICS: '0', AR_ENABLE_METRICS: '1' } }).meter.enabled).toBe(false);
  });

  it('is on by default and with AR_ENABLE_METRICS=1, and treats an empty variable as unset', () => {
    expect(harness({ env: {} }).meter.enabled).toBe(true);
    expect(harness({ env: { AR_ENABLE_METRICS: '1' } }).meter.enabled).toBe(true);
    expect(harness({ env: { FLOWMETER_ENABLE_METRICS: '' } }).meter.enabled).toBe(true);
    expect(harness({ env: { FLOWMETER_ENABLE_METRICS: ' TRUE ' } }).meter.enabled).toBe(true);
  });
});

describe('calls outside any run (metrics on)', () => {
  it('makes the call, returns its result and counts it as unattributed', async () => {
    const { meter, sink } = harness();
    const response = openAiResponse(3, 3);
    await expect(meter.llmCall({ model: PRICED_MODEL }, () => response)).resolves.toBe(response);
    await expect(meter.toolCall('t', () => 'tool')).resolves.toBe('tool');
    await expect(meter.step('s', () => 'step')).resolves.toBe('step');
    await expect(meter.step('s', { model: PRICED_MODEL }, () => 'step with meta')).resolves.toBe('step with meta');
    meter.retry('rate_limit');
    await nextMacrotask();
    expect(sink.events).toEqual([]);
    expect(meter.diagnostics().unattributed_calls).toBe(5);
    expect(meter.snapshot().total_runs).toBe(0);
  });

  it('rethrows the error of an unattributed call unchanged', async () => {
    const { meter } = harness();
    const error = new Error('down');
    await expect(meter.llmCall({ model: PRICED_MODEL }, () => Promise.reject(error))).rejects.toBe(error);
  });

  it('does not attribute meter.llmCall to a flowStart run (no async context), but run.llmCall is', async () => {
    const { meter, sink } = harness();
    const run = meter.flowStart('f');
    await meter.llmCall({ model: PRICED_MODEL }, () => openAiResponse(1, 1));
    await run.llmCall({ model: PRICED_MODEL }, () => openAiResponse(2, 2));
    expect(run.flowEnd(true)!.event.total_tokens).toBe(4);
    expect(sink.ofKind('llm_call')).toHaveLength(1);
    expect(meter.diagnostics().unattributed_calls).toBe(1);
  });
});
