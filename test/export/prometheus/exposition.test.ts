import { describe, expect, it } from 'vitest';
import {
  OPENMETRICS_CONTENT_TYPE,
  PrometheusView,
  TEXT_CONTENT_TYPE,
  contentType,
  renderRegistry,
  renderRegistryAsync,
} from '../../../src/export/prometheus/index.js';
import type { ExpositionFormat } from '../../../src/export/prometheus/index.js';
import { canonicalFloat, escapeHelp, escapeLabelValue, formatValue } from '../../../src/export/prometheus/text-encoding.js';
import { Registry } from '../../../src/recorder/index.js';
import { NASTY_VALUES, rawSource } from './fake-source.js';
import { runFinished, runStarted, twoRuns } from './fixtures.js';
import { find, parseExposition, valueOf } from './parse.js';

function fullView(): PrometheusView {
  const view = new PrometheusView({ profiles: ['default', 'arx', 'enzu'] });
  for (const event of twoRuns()) view.record(event);
  return view;
}

describe.each<ExpositionFormat>(['text', 'openmetrics'])('the %s exposition', (format) => {
  const om = format === 'openmetrics';

  it('gives every family a HELP and a TYPE line', () => {
    const view = fullView();
    const m = parseExposition(view.render(format));
    expect(m.type.size).toBe(view.registry.families().length);
    expect(m.help.size).toBe(view.registry.families().length);
  });

  it('writes histogram buckets cumulative, in le order, with +Inf equal to _count', () => {
    const m = parseExposition(fullView().render(format));
    const counts = find(m, 'flowmeter_run_duration_seconds_count');
    expect(counts.length).toBeGreaterThan(0);
    for (const name of ['flowmeter_run_duration_seconds', 'ar_step_latency_ms', 'enzu_run_retries', 'flowmeter_llm_request_duration_seconds']) {
      for (const count of find(m, `${name}_count`)) {
        const buckets = find(m, `${name}_bucket`, count.labels);
        const bounds = buckets.map((b) => (b.labels['le'] === '+Inf' ? Infinity : Number(b.labels['le'])));
        expect(bounds).toEqual([...bounds].sort((a, b) => a - b));
        expect(bounds.at(-1)).toBe(Infinity);
        for (let i = 1; i < buckets.length; i++) expect(buckets[i]!.value).toBeGreaterThanOrEqual(buckets[i - 1]!.value);
        expect(buckets.at(-1)!.value).toBe(count.value);
      }
    }
  });

  it('escapes quotes, backslashes and line feeds in label values and reads back the same values', () => {
    const m = parseExposition(renderRegistry(rawSource(NASTY_VALUES), format));
    expect(find(m, 'raw_values_total').map((s) => s.labels['value'])).toEqual(NASTY_VALUES);
    expect(find(m, 'raw_duration_seconds_count').map((s) => s.labels['value'])).toEqual(NASTY_VALUES);
    const text = renderRegistry(rawSource(NASTY_VALUES), format);
    expect(text).toContain('raw_values_total{value="say \\"hi\\""} 1\n');
    expect(text).toContain('raw_values_total{value="C:\\\\temp\\\\"} 2\n');
    expect(text).toContain('raw_values_total{value="two\\nlines"} 3\n');
  });

  it('escapes HELP text so it stays on one line', () => {
    const help = 'Back\\slash, "quoted"\nand a second line.';
    const m = parseExposition(renderRegistry(rawSource(['x'], help), format));
    expect(m.help.get(om ? 'raw_values' : 'raw_values_total')).toBe(help);
  });

  it('redacts an e-mail in a label and replaces quotes, backslashes and line feeds before they reach the text', () => {
    const view = new PrometheusView({ profiles: ['default', 'arx'] });
    view.record(runStarted('r1', { flow_id: 'jane.doe@example.com' }));
    view.record(runStarted('r2', { flow_id: 'say "hi"\\now\n' }));
    const text = view.render(format);
    expect(text).not.toContain('jane');
    const m = parseExposition(text);
    expect(valueOf(m, 'flowmeter_runs_started_total', { flow_id: 'redacted_email', agent: 'commis' })).toBe(1);
    expect(valueOf(m, 'ar_flow_started_total', { flow_id: 'redacted_email', persona: 'commis', exec_mode: 'live', branch: 'main' })).toBe(1);
    expect(valueOf(m, 'flowmeter_runs_started_total', { flow_id: 'say__hi__now_', agent: 'commis' })).toBe(1);
  });

  it('renders 10,000 series of one family as 10,000 sample lines with the right values', () => {
    const registry = new Registry({ maxSeriesPerMetric: 10_000 });
    const calls = registry.counter({ name: 'calls_total', help: 'Calls.', labelNames: ['flow_id', 'step_id', 'model'] });
    for (let i = 0; i < 10_000; i++) calls.labels(`flow_${i % 20}`, `step_${Math.floor(i / 20) % 50}`, `model_${Math.floor(i / 1000)}`).inc(i);
    const m = parseExposition(renderRegistry(registry, format));
    const samples = find(m, 'calls_total');
    expect(samples).toHaveLength(10_000);
    expect(new Set(samples.map((s) => s.line.slice(0, s.line.lastIndexOf(' ')))).size).toBe(10_000);
    expect(samples.reduce((sum, s) => sum + s.value, 0)).toBe((9_999 * 10_000) / 2);
    expect(valueOf(m, 'flowmeter_label_overflow_total', { metric: 'calls_total' })).toBe(0);
  });

  it('renders the same text asynchronously, yielding to the event loop between slices', async () => {
    const registry = new Registry({ maxSeriesPerMetric: 20_000 });
    const h = registry.histogram({ name: 'big_duration_seconds', help: 'Big.', labelNames: ['k'], buckets: [0.1, 1, 10] });
    for (let i = 0; i < 20_000; i++) h.labels(`k${i}`).observe(i / 1000);
    let turns = 0;
    let probing = true;
    const probe = (): void => {
      turns++;
      if (probing) setImmediate(probe);
    };
    setImmediate(probe);
    const text = await renderRegistryAsync(registry, format, { sliceMs: 1 });
    probing = false;
    expect(turns).toBeGreaterThan(1);
    expect(text).toBe(renderRegistry(registry, format));
  });

  it('writes the same text when a render runs while an asynchronous first render is paused', async () => {
    const registry = new Registry({ maxSeriesPerMetric: 20_000 });
    const c = registry.counter({ name: 'calls_total', help: 'Calls.', labelNames: ['k'] });
    for (let i = 0; i < 20_000; i++) c.labels(`k${i}`).inc(i);
    // The first slice runs now and leaves the label cache half built; the synchronous render completes it.
    const pending = renderRegistryAsync(registry, format, { sliceMs: 0.2 });
    const meanwhile = renderRegistry(registry, format);
    c.labels('k1').inc();
    const text = await pending;
    expect(find(parseExposition(text), 'calls_total')).toHaveLength(20_000);
    expect(find(parseExposition(meanwhile), 'calls_total')).toHaveLength(20_000);
    expect(renderRegistry(registry, format)).toBe(meanwhile.replace('calls_total{k="k1"} 1\n', 'calls_total{k="k1"} 2\n'));
  });

  it('goes with its content type', () => {
    expect(contentType(format)).toBe(om ? OPENMETRICS_CONTENT_TYPE : TEXT_CONTENT_TYPE);
  });
});

describe('the text format', () => {
  const text = fullView().render('text');

  it('puts HELP before TYPE and names counters as registered, _total included', () => {
    expect(text).toContain('# HELP flowmeter_runs_started_total Runs started.\n# TYPE flowmeter_runs_started_total counter\n');
    expect(text).not.toContain('# EOF');
    expect(text).not.toContain('# UNIT');
  });

  it('writes le as the shortest number, like prom-client', () => {
    expect(text).toContain('enzu_run_elapsed_seconds_bucket{le="0.05"} 0\n');
    expect(text).toContain('enzu_run_elapsed_seconds_bucket{le="1"} 0\n');
    expect(text).toContain('enzu_run_elapsed_seconds_bucket{le="+Inf"} 2\n');
  });
});

describe('the OpenMetrics format', () => {
  const text = fullView().render('openmetrics');

  it('names a counter family without _total and its samples with it', () => {
    expect(text).toContain('# TYPE flowmeter_runs_started counter\n');
    expect(text).toContain('flowmeter_runs_started_total{flow_id="backup",agent="commis"} 2\n');
    expect(text).not.toContain('# TYPE flowmeter_runs_started_total');
  });

  it('adds _total to the samples of a counter registered without it', () => {
    const registry = new Registry();
    registry.counter({ name: 'requests', help: 'Requests.', labelNames: [] }).labels().inc(2);
    const om = renderRegistry(registry, 'openmetrics');
    expect(om).toContain('# TYPE requests counter\n');
    expect(om).toContain('\nrequests_total 2\n');
  });

  it('orders metadata TYPE, UNIT, HELP and writes UNIT only when the name ends with it', () => {
    expect(text).toContain(
      '# TYPE flowmeter_run_duration_seconds histogram\n# UNIT flowmeter_run_duration_seconds seconds\n# HELP flowmeter_run_duration_seconds Wall-clock time of a finished run.\n',
    );
    expect(text).toContain('# TYPE flowmeter_cost_usd counter\n# UNIT flowmeter_cost_usd usd\n');
    const registry = new Registry();
    registry.gauge({ name: 'queue_depth', help: 'Depth.', labelNames: [], unit: 'bytes' });
    expect(renderRegistry(registry, 'openmetrics')).not.toContain('# UNIT');
  });

  it('writes le as canonical floats', () => {
    expect(text).toContain('enzu_run_elapsed_seconds_bucket{le="0.05"} 0\n');
    expect(text).toContain('enzu_run_elapsed_seconds_bucket{le="1.0"} 0\n');
    expect(text).toContain('enzu_run_elapsed_seconds_bucket{le="600.0"} 2\n');
    expect(text).toContain('enzu_run_total_tokens_bucket{le="250000.0"} 1\n');
    expect(text).toContain('enzu_run_cost_usd_bucket{le="0.0001"} 0\n');
  });

  it('ends with # EOF and a line feed, once', () => {
    expect(text.endsWith('\n# EOF\n')).toBe(true);
    expect(text.indexOf('# EOF')).toBe(text.length - '# EOF\n'.length);
  });
});

describe('numbers', () => {
  it('follow the OpenMetrics canonical examples for le', () => {
    const examples = ['0.0', '0.001', '0.002', '0.01', '0.1', '0.9', '0.95', '0.99', '0.999', '1.0', '1.7', '10.0'];
    expect(examples.map((e) => canonicalFloat(Number(e)))).toEqual(examples);
    const powers = ['1e-10', '1e-09', '1e-05', '0.0001', '0.1', '1.0', '100000.0', '1e+06', '1e+10'];
    expect(powers.map((e) => canonicalFloat(Number(e)))).toEqual(powers);
    expect(canonicalFloat(Infinity)).toBe('+Inf');
    expect(canonicalFloat(1.5e-7)).toBe('1.5e-07');
  });

  it('write sample values with +Inf, -Inf, NaN and integers without an exponent', () => {
    expect([Infinity, -Infinity, NaN].map(formatValue)).toEqual(['+Inf', '-Inf', 'NaN']);
    expect(formatValue(1e20)).toBe('100000000000000000000');
    expect(formatValue(123456789)).toBe('123456789');
    expect(Number(formatValue(0.1 + 0.2))).toBe(0.1 + 0.2);
  });

  it('are counted as they are recorded: a gauge can be negative', () => {
    const registry = new Registry();
    registry.gauge({ name: 'balance', help: 'Balance.', labelNames: [] }).labels().set(-2.5);
    expect(renderRegistry(registry, 'text')).toContain('\nbalance -2.5\n');
  });
});

describe('escaping', () => {
  it('escapes a label value as both formats require', () => {
    expect(escapeLabelValue('a"b\\c\nd')).toBe('a\\"b\\\\c\\nd');
    expect(escapeLabelValue('plain')).toBe('plain');
  });

  it('escapes HELP quotes only in OpenMetrics', () => {
    expect(escapeHelp('a "b"\\\n', false)).toBe('a "b"\\\\\\n');
    expect(escapeHelp('a "b"\\\n', true)).toBe('a \\"b\\"\\\\\\n');
  });

  it('keeps a run without cost out of the cost histograms in both formats', () => {
    const view = new PrometheusView({ profiles: ['enzu'] });
    view.record(runFinished('r', { cost_usd: null }));
    for (const format of ['text', 'openmetrics'] as const) expect(valueOf(parseExposition(view.render(format)), 'enzu_run_cost_usd_count')).toBe(0);
  });
});
