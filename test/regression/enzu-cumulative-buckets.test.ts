import { describe, expect, it } from 'vitest';
import { PrometheusView } from '../../src/export/prometheus/index.js';
import type { ExpositionFormat } from '../../src/export/prometheus/index.js';
import { runFinished } from '../export/prometheus/fixtures.js';
import { find, parseExposition, valueOf } from '../export/prometheus/parse.js';

/**
 * enzu's `prometheus_format()` writes `_bucket` values that are not a cumulative count of
 * observations at or below `le`: a value is counted in every bucket at or above it and the
 * counts are then summed again, so upper buckets come out larger than `_count`, which
 * Prometheus' histogram_quantile() cannot make sense of. The enzu profile exposes the same
 * families, with `_bucket` read from the registry's cumulative counts.
 */
const ELAPSED = [0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5, 9.5];
const HISTOGRAMS = ['enzu_run_elapsed_seconds', 'enzu_run_cost_usd', 'enzu_run_total_tokens', 'enzu_run_input_tokens', 'enzu_run_output_tokens', 'enzu_run_retries'];

function exposition(format: ExpositionFormat): ReturnType<typeof parseExposition> {
  const view = new PrometheusView({ profiles: ['enzu'] });
  ELAPSED.forEach((seconds, i) =>
    view.record(runFinished(`r${i}`, { elapsed_seconds: seconds, cost_usd: seconds / 1000, input_tokens: 100 * (i + 1), output_tokens: 10 * (i + 1), total_tokens: 110 * (i + 1), retries: i % 4 })),
  );
  return parseExposition(view.render(format));
}

describe.each<ExpositionFormat>(['text', 'openmetrics'])("enzu's non-cumulative buckets (%s)", (format) => {
  const m = exposition(format);

  it.each(HISTOGRAMS)('keeps every %s bucket cumulative and at most _count', (name) => {
    const count = valueOf(m, `${name}_count`);
    expect(count).toBe(ELAPSED.length);
    const buckets = find(m, `${name}_bucket`).map((s) => s.value);
    expect(buckets.length).toBeGreaterThan(1);
    for (let i = 1; i < buckets.length; i++) expect(buckets[i]).toBeGreaterThanOrEqual(buckets[i - 1]!);
    for (const value of buckets) expect(value).toBeLessThanOrEqual(count!);
    expect(buckets.at(-1)).toBe(count);
  });

  it('counts each run once, in the buckets at and above its value', () => {
    const le = (bound: string): number | undefined => valueOf(m, 'enzu_run_elapsed_seconds_bucket', { le: format === 'text' ? bound : canonical(bound) });
    expect(le('0.5')).toBe(1);
    expect(le('1')).toBe(1);
    expect(le('2.5')).toBe(3);
    expect(le('5')).toBe(5);
    expect(le('10')).toBe(10);
    expect(le('+Inf')).toBe(10);
  });
});

function canonical(bound: string): string {
  return bound === '+Inf' || bound.includes('.') ? bound : `${bound}.0`;
}
