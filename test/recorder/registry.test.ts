import { describe, expect, it, vi } from 'vitest';
import { DROPPED_VALUES_METRIC, LABEL_OVERFLOW_METRIC, OVERFLOW_LABEL_VALUE, Registry } from '../../src/recorder/index.js';
import type { CounterFamily, Family } from '../../src/recorder/index.js';

/** Series of a family as `labelValues.join(',') -> value` (counters and gauges). */
function values(family: Family): Record<string, number> {
  const out: Record<string, number> = {};
  if (family.type === 'histogram') family.forEachSeries((labels, series) => (out[labels.join(',')] = series.count));
  else if (family.type === 'counter') family.forEachSeries((labels, series) => (out[labels.join(',')] = series.value));
  else family.forEachSeries((labels, series) => (out[labels.join(',')] = series.value));
  return out;
}

function builtIn(registry: Registry, name: string): CounterFamily {
  const family = registry.family(name);
  if (family?.type !== 'counter') throw new Error(`${name} is missing`);
  return family;
}

describe('interning', () => {
  it('returns the same handle for the same label values', () => {
    const tokens = new Registry().counter({ name: 'llm_tokens_total', help: 'Tokens', labelNames: ['direction', 'model'] });
    const first = tokens.labels('in', 'gpt-4o');
    expect(tokens.labels('in', 'gpt-4o')).toBe(first);
    expect(tokens.labels('out', 'gpt-4o')).not.toBe(first);
  });

  it('returns the same handle for raw values that sanitize alike', () => {
    const runs = new Registry().counter({ name: 'runs_total', help: 'Runs', labelNames: ['agent'] });
    expect(runs.labels('ann@example.com')).toBe(runs.labels('bob@example.org'));
    expect(runs.seriesCount).toBe(1);
  });

  it('shows sanitized label values to readers', () => {
    const runs = new Registry().counter({ name: 'runs_total', help: 'Runs', labelNames: ['agent', 'branch'] });
    runs.labels('ann@example.com', '').inc();
    expect(values(runs)).toEqual({ 'redacted_email,unknown': 1 });
  });

  it('keeps every value when the arrays grow for new series', () => {
    const runs = new Registry().counter({ name: 'runs_total', help: 'Runs', labelNames: ['flow'] });
    runs.labels('first').inc(7);
    for (let i = 0; i < 500; i++) runs.labels(`flow_${i}`).inc(i);
    expect(runs.labels('first').value).toBe(7);
    expect(runs.labels('flow_499').value).toBe(499);
    expect(runs.seriesCount).toBe(501);
  });

  it('has one series from the start for a metric without labels', () => {
    const inflight = new Registry().gauge({ name: 'inflight_steps', help: 'Steps running', labelNames: [] });
    expect(inflight.labels()).toBe(inflight.labels());
    expect(values(inflight)).toEqual({ '': 0 });
  });

  it('takes a wrong number of label values without throwing, and says so', () => {
    const onDrop = vi.fn();
    const registry = new Registry({ onDrop });
    const runs = registry.counter({ name: 'runs_total', help: 'Runs', labelNames: ['flow', 'agent'] });
    runs.labels('support').inc();
    runs.labels('support', 'triage', 'extra').inc();
    expect(values(runs)).toEqual({ 'support,unknown': 1, 'support,triage': 1 });
    expect(onDrop).toHaveBeenCalledWith('runs_total', 'label_count');
    expect(registry.droppedValues()).toBe(0);
  });

  it('finds the series of a metric with more than eight labels', () => {
    const names = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'];
    const wide = new Registry().counter({ name: 'wide_total', help: 'Nine labels', labelNames: names });
    const handle = wide.labels(...names);
    expect(wide.labels(...names)).toBe(handle);
    handle.inc(2);
    expect(values(wide)).toEqual({ [names.join(',')]: 2 });
  });
});

describe('counters and gauges', () => {
  it('adds counter increments exactly', () => {
    const tokens = new Registry().counter({ name: 'llm_tokens_total', help: 'Tokens', labelNames: ['direction'] });
    const input = tokens.labels('in');
    input.inc();
    input.inc(1234);
    input.inc(0.5);
    tokens.labels('out').inc(89);
    expect(values(tokens)).toEqual({ in: 1235.5, out: 89 });
  });

  it('sets, raises and lowers a gauge, below zero too', () => {
    const inflight = new Registry().gauge({ name: 'inflight_steps', help: 'Steps running', labelNames: ['flow'] });
    const gauge = inflight.labels('support');
    gauge.inc();
    gauge.inc(4);
    gauge.dec(2);
    expect(gauge.value).toBe(3);
    gauge.set(-1.5);
    gauge.dec();
    expect(gauge.value).toBe(-2.5);
  });
});

describe('dropped values', () => {
  it('drops NaN, negative and infinite counter increments and counts each by reason', () => {
    const onDrop = vi.fn();
    const registry = new Registry({ onDrop });
    const cost = registry.counter({ name: 'llm_cost_usd_total', help: 'Cost', labelNames: ['model'] });
    const counter = cost.labels('gpt-4o');
    counter.inc(0.25);
    counter.inc(Number.NaN);
    counter.inc(-1);
    counter.inc(Number.POSITIVE_INFINITY);
    counter.inc(-2);
    counter.inc('3' as unknown as number);
    expect(counter.value).toBe(0.25);
    expect(registry.droppedValues()).toBe(5);
    expect(values(builtIn(registry, DROPPED_VALUES_METRIC))).toEqual({
      'llm_cost_usd_total,nan': 1,
      'llm_cost_usd_total,negative': 2,
      'llm_cost_usd_total,infinite': 1,
      'llm_cost_usd_total,not_a_number': 1,
    });
    expect(onDrop.mock.calls).toEqual([
      ['llm_cost_usd_total', 'nan'],
      ['llm_cost_usd_total', 'negative'],
      ['llm_cost_usd_total', 'infinite'],
      ['llm_cost_usd_total', 'negative'],
      ['llm_cost_usd_total', 'not_a_number'],
    ]);
  });

  it('drops NaN and infinite gauge values but keeps negative ones', () => {
    const registry = new Registry();
    const gauge = registry.gauge({ name: 'queue_depth', help: 'Depth', labelNames: [] }).labels();
    gauge.set(3);
    gauge.set(Number.NaN);
    gauge.inc(Number.NEGATIVE_INFINITY);
    gauge.dec(Number.NaN);
    gauge.dec(5);
    expect(gauge.value).toBe(-2);
    expect(registry.droppedValues()).toBe(3);
  });

  it('drops NaN, negative and infinite histogram observations', () => {
    const registry = new Registry();
    const latency = registry.histogram({ name: 'step_seconds', help: 'Step latency', labelNames: [], buckets: [1] }).labels();
    latency.observe(0.5);
    latency.observe(Number.NaN);
    latency.observe(-0.1);
    latency.observe(Number.POSITIVE_INFINITY);
    expect(latency.count).toBe(1);
    expect(latency.sum).toBe(0.5);
    expect(registry.droppedValues()).toBe(3);
  });

  it('does not let a throwing onDrop reach the caller', () => {
    const registry = new Registry({
      onDrop: () => {
        throw new Error('logger down');
      },
    });
    const counter = registry.counter({ name: 'runs_total', help: 'Runs', labelNames: [] }).labels();
    expect(() => counter.inc(Number.NaN)).not.toThrow();
    expect(registry.droppedValues()).toBe(1);
  });
});

describe('cardinality cap', () => {
  it('sends the 2,001st label set to the overflow series and counts it', () => {
    const registry = new Registry();
    const calls = registry.counter({ name: 'llm_calls_total', help: 'Calls', labelNames: ['model', 'phase'] });
    for (let i = 0; i < 2000; i++) calls.labels(`model_${i}`, 'initial').inc();
    const overflow = builtIn(registry, LABEL_OVERFLOW_METRIC);
    expect(values(overflow)['llm_calls_total']).toBe(0);

    const late = calls.labels('model_2000', 'initial');
    late.inc(5);
    expect(calls.seriesCount).toBe(2001);
    expect(values(calls)[`${OVERFLOW_LABEL_VALUE},${OVERFLOW_LABEL_VALUE}`]).toBe(5);
    expect(values(overflow)['llm_calls_total']).toBe(1);

    // The same label set again is the same overflow series, not another overflow.
    expect(calls.labels('model_2000', 'initial')).toBe(late);
    expect(values(overflow)['llm_calls_total']).toBe(1);
    // Another new one shares the overflow series and is counted.
    expect(calls.labels('model_2001', 'summary')).toBe(late);
    expect(values(overflow)['llm_calls_total']).toBe(2);
    // Series that existed before the cap keep their own values.
    expect(calls.labels('model_0', 'initial').value).toBe(1);
  });

  it('takes the cap from the metric, then from the registry', () => {
    const registry = new Registry({ maxSeriesPerMetric: 3 });
    const small = registry.counter({ name: 'small_total', help: 'x', labelNames: ['k'] });
    const large = registry.counter({ name: 'large_total', help: 'x', labelNames: ['k'], maxSeries: 10 });
    for (let i = 0; i < 10; i++) {
      small.labels(`k${i}`).inc();
      large.labels(`k${i}`).inc();
    }
    expect(small.seriesCount).toBe(4);
    expect(large.seriesCount).toBe(10);
    expect(values(builtIn(registry, LABEL_OVERFLOW_METRIC))).toMatchObject({ small_total: 7, large_total: 0 });
  });

  it('still resolves values correctly after its raw-value cache is full', () => {
    const registry = new Registry({ maxSeriesPerMetric: 2 });
    const runs = registry.counter({ name: 'runs_total', help: 'Runs', labelNames: ['agent'] });
    // Every e-mail is a new raw value and the same sanitized one.
    for (let i = 0; i < 100; i++) runs.labels(`user${i}@example.com`).inc();
    expect(values(runs)).toEqual({ redacted_email: 100 });
  });
});

describe('definitions', () => {
  it.each(['run_id', 'user_id', 'session_id', 'task_id'])('refuses %s as a label name with a clear message', (label) => {
    const registry = new Registry();
    expect(() => registry.counter({ name: 'runs_total', help: 'Runs', labelNames: ['flow', label] })).toThrow(
      `runs_total: ${label} is high-cardinality; put it in events and logs, not in metric labels`,
    );
  });

  it('refuses invalid names, duplicates and reserved labels', () => {
    const registry = new Registry();
    registry.counter({ name: 'runs_total', help: 'Runs', labelNames: [] });
    expect(() => registry.counter({ name: 'runs_total', help: 'Runs', labelNames: [] })).toThrow('already registered');
    expect(() => registry.counter({ name: 'runs-total', help: 'Runs', labelNames: [] })).toThrow('metric name "runs-total" is invalid');
    expect(() => registry.gauge({ name: 'g', help: 'x', labelNames: ['model-name'] })).toThrow('label name "model-name" is invalid');
    expect(() => registry.gauge({ name: 'g', help: 'x', labelNames: ['a', 'a'] })).toThrow('listed twice');
    expect(() => registry.histogram({ name: 'h', help: 'x', labelNames: ['le'], buckets: [1] })).toThrow('reserved');
    expect(() => registry.counter({ name: 'c', help: 'x', labelNames: [], maxSeries: 0 })).toThrow('maxSeries must be a positive integer');
    expect(() => new Registry({ maxSeriesPerMetric: 1.5 })).toThrow('maxSeriesPerMetric must be a positive integer');
  });

  it('refuses buckets that are not finite and strictly increasing', () => {
    const registry = new Registry();
    expect(() => registry.histogram({ name: 'a', help: 'x', labelNames: [], buckets: [1, 1] })).toThrow('strictly increasing');
    expect(() => registry.histogram({ name: 'b', help: 'x', labelNames: [], buckets: [2, 1] })).toThrow('strictly increasing');
    expect(() => registry.histogram({ name: 'c', help: 'x', labelNames: [], buckets: [1, Infinity] })).toThrow('leave out +Inf');
  });

  it('lists families in registration order after the two built-in counters', () => {
    const registry = new Registry();
    registry.histogram({ name: 'step_seconds', help: 'x', labelNames: [], buckets: [1] });
    registry.counter({ name: 'runs_total', help: 'x', labelNames: [] });
    registry.gauge({ name: 'inflight', help: 'x', labelNames: [] });
    expect(registry.families().map((family) => [family.name, family.type])).toEqual([
      [LABEL_OVERFLOW_METRIC, 'counter'],
      [DROPPED_VALUES_METRIC, 'counter'],
      ['step_seconds', 'histogram'],
      ['runs_total', 'counter'],
      ['inflight', 'gauge'],
    ]);
  });

  it('keeps name, help, unit and label names for the exposition', () => {
    const family = new Registry().histogram({
      name: 'llm_request_duration_seconds',
      help: 'LLM request latency',
      unit: 'seconds',
      labelNames: ['provider', 'model'],
      buckets: [0.5, 1],
    });
    expect([family.name, family.help, family.unit, family.type, family.labelNames, family.buckets, family.maxSeries]).toEqual([
      'llm_request_duration_seconds',
      'LLM request latency',
      'seconds',
      'histogram',
      ['provider', 'model'],
      [0.5, 1],
      2000,
    ]);
  });
});
