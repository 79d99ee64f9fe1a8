import { DDSketch } from '@datadog/sketches-js';
import { describe, expect, it } from 'vitest';
import { Registry } from '../../src/recorder/index.js';
import type { Histogram, HistogramFamily } from '../../src/recorder/index.js';
import { QuantileSketch } from '../../src/stats/quantile-sketch.js';
import { exactQuantile, mulberry32, normal, relativeError } from '../stats/fixtures.js';

function histogram(buckets: readonly number[], sketch = true): HistogramFamily {
  return new Registry().histogram({ name: 'step_seconds', help: 'Step latency', labelNames: ['step'], buckets, sketch });
}

/** Prometheus `le`, the slow obvious way: the first bound the value does not exceed. */
function referenceBucket(bounds: readonly number[], value: number): number {
  const index = bounds.findIndex((bound) => value <= bound);
  return index === -1 ? bounds.length : index;
}

function observeAll(series: Histogram, values: readonly number[]): void {
  for (const value of values) series.observe(value);
}

describe('histogram buckets', () => {
  it('puts a value equal to a bound in that bound bucket (le)', () => {
    const series = histogram([0.5, 1, 2.5]).labels('plan');
    observeAll(series, [0.5, 1, 2.5, 2.5000001, 0.4999999]);
    expect(series.bucketCounts()).toEqual([2, 1, 1, 1]);
  });

  it('reports cumulative counts ending in the total, as Prometheus _bucket lines', () => {
    const series = histogram([0.05, 0.5, 5]).labels('plan');
    observeAll(series, [0.01, 0.05, 0.2, 0.3, 1, 7, 70]);
    expect(series.bucketCounts()).toEqual([2, 2, 1, 2]);
    expect(series.cumulativeBucketCounts()).toEqual([2, 4, 5, 7]);
    expect(series.upperBounds).toEqual([0.05, 0.5, 5]);
  });

  it('puts zeros in the first bucket whose bound is at least zero', () => {
    const series = histogram([-1, 0, 1]).labels('retry');
    // 1e-320 is in the sketch's zero bucket but above the bound 0.
    observeAll(series, [0, 0, 1e-320, 0.5]);
    expect(series.bucketCounts()).toEqual([0, 2, 2, 0]);
  });

  it('counts everything in +Inf when there are no explicit buckets', () => {
    const series = histogram([]).labels('plan');
    observeAll(series, [0, 3, 1e300]);
    expect(series.bucketCounts()).toEqual([3]);
  });

  describe.each([
    { name: 'OTel GenAI durations', bounds: [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92] },
    { name: 'ARX milliseconds', bounds: [50, 100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 40000] },
    // Bounds closer than the sketch's 2% buckets share keys; 0 and a subnormal have none.
    { name: 'crowded and degenerate bounds', bounds: [0, 1e-310, 1e-9, 1, 1.001, 1.002, 1.0201, 1.0202, 1e12] },
  ])('on $name', ({ bounds }) => {
    it('assigns every value to the same bucket as a linear scan', () => {
      const random = mulberry32(99);
      const values: number[] = [...bounds, ...bounds.map((b) => b * (1 + 1e-15)), ...bounds.map((b) => b * (1 - 1e-15))];
      for (let i = 0; i < 50_000; i++) values.push(Math.exp((random() - 0.5) * 60) * (bounds[bounds.length - 1] || 1));
      for (let i = 0; i < 2_000; i++) values.push(bounds[Math.floor(random() * bounds.length)]! * (1 + (random() - 0.5) * 0.05));
      const series = histogram(bounds).labels('x');
      const expected = new Array<number>(bounds.length + 1).fill(0);
      for (const value of values) {
        if (!(value >= 0)) continue;
        expected[referenceBucket(bounds, value)]! += 1;
        series.observe(value);
      }
      expect(series.bucketCounts()).toEqual(expected);
    });
  });
});

describe('histogram summary values', () => {
  it('keeps count, sum, min and max exactly', () => {
    const series = histogram([1]).labels('plan');
    expect([series.count, series.sum, series.min, series.max]).toEqual([0, 0, null, null]);
    observeAll(series, [0.25, 4, 0, 1.5]);
    expect([series.count, series.sum, series.min, series.max]).toEqual([4, 5.75, 0, 4]);
  });

  it('records -0 as 0', () => {
    const series = histogram([1]).labels('retry');
    series.observe(-0);
    expect(Object.is(series.min, 0)).toBe(true);
    expect(Object.is(series.max, 0)).toBe(true);
  });

  it('keeps series of one family apart', () => {
    const family = histogram([1]);
    family.labels('a').observe(3);
    family.labels('b').observe(0.5);
    family.labels('b').observe(0.25);
    const seen: Record<string, [number, number]> = {};
    family.forEachSeries(([step], series) => (seen[step!] = [series.count, series.sum]));
    expect(seen).toEqual({ a: [1, 3], b: [2, 0.75] });
  });
});

const N = 20_000;
const SHAPES: readonly { name: string; draw: (random: () => number) => number }[] = [
  { name: 'lognormal latencies', draw: (random) => Math.exp(0.5 + 1.2 * normal(random)) },
  { name: 'heavy-tailed costs', draw: (random) => 0.001 / Math.pow(1 - random(), 1 / 1.16) },
  { name: 'mostly zeros', draw: (random) => (random() < 0.9 ? 0 : 50 + random() * 5000) },
  { name: 'token counts', draw: (random) => Math.floor(random() * 100_000) },
];

describe.each(SHAPES.map((shape, index) => ({ ...shape, seed: 500 + index })))('histogram percentiles on $name', ({ draw, seed }) => {
  const random = mulberry32(seed);
  const values = Array.from({ length: N }, () => draw(random));
  const sorted = [...values].sort((a, b) => a - b);
  const series = histogram([0.1, 1, 10, 100]).labels('x');
  observeAll(series, values);

  it.each([0.5, 0.9, 0.95, 0.99, 0.999])('keeps p%s within 1% of the exact value', (q) => {
    expect(relativeError(series.quantile(q)!, exactQuantile(sorted, q))).toBeLessThanOrEqual(0.01 + 1e-12);
  });

  it('answers p0 and p100 with the exact min and max', () => {
    expect([series.quantile(0), series.quantile(1)]).toEqual([sorted[0], sorted[N - 1]]);
  });

  it('gives a QuantileSketch with the same answers and exact summary', () => {
    const sketch = series.sketch()!;
    expect([sketch.count, sketch.min, sketch.max]).toEqual([N, sorted[0], sorted[N - 1]]);
    expect(sketch.sum).toBe(series.sum);
    for (const q of [0.01, 0.25, 0.5, 0.75, 0.95, 0.99]) expect(sketch.quantile(q)).toBe(series.quantile(q));
  });

  it('holds the same bins as the library sketch fed the same values', () => {
    const library = new DDSketch({ relativeAccuracy: 0.01 });
    for (const value of values) library.accept(value);
    const ours = series.ddSketch()!;
    expect(binsOf(ours)).toEqual(binsOf(library));
    expect([ours.zeroCount, ours.count, ours.min, ours.max]).toEqual([library.zeroCount, library.count, library.min, library.max]);
    expect(ours.sum).toBeCloseTo(library.sum, 6);
  });
});

describe('histogram sketches', () => {
  it('merge with sketches built elsewhere as if all values went into one', () => {
    const random = mulberry32(7);
    const here = Array.from({ length: 5000 }, () => Math.exp(normal(random)));
    const there = Array.from({ length: 5000 }, () => Math.exp(2 + normal(random)));
    const series = histogram([1]).labels('x');
    observeAll(series, here);
    const remote = new QuantileSketch();
    for (const value of there) remote.add(value);
    const all = new QuantileSketch();
    for (const value of [...here, ...there]) all.add(value);

    const merged = series.sketch()!;
    merged.merge(remote);
    expect(merged.count).toBe(all.count);
    for (const q of [0.05, 0.5, 0.95, 0.99]) expect(merged.quantile(q)).toBe(all.quantile(q));
    // A snapshot from bytes, as another process would read it, answers the same.
    expect(QuantileSketch.fromBytes(series.sketch()!.toBytes()).quantile(0.9)).toBe(series.quantile(0.9));
  });

  it('keeps counting values spread over 600 decades, with exact extremes', () => {
    const series = histogram([1]).labels('x');
    const values = [1e-300, 1e-200, 1e-100, 1e-10, 1, 1e10, 1e100, 1e200, 1e300, 2e300, 4e300];
    observeAll(series, values);
    expect(series.count).toBe(values.length);
    expect([series.quantile(0), series.quantile(1)]).toEqual([1e-300, 4e300]);
    // The top of the range keeps its 1% accuracy; far-below values fold into the lowest bin.
    expect(relativeError(series.quantile(0.9)!, 2e300)).toBeLessThanOrEqual(0.01);
    const keys = [...binsOf(series.ddSketch()!).keys()];
    expect(Math.max(...keys) - Math.min(...keys)).toBeLessThan(2048);
  });

  it('is absent when the family keeps no sketch, and buckets still count', () => {
    const series = histogram([1], false).labels('x');
    observeAll(series, [0.5, 2]);
    expect([series.quantile(0.5), series.sketch(), series.bucketCounts()]).toEqual([null, null, [1, 1]]);
  });

  it('answers null for an empty series and refuses a quantile outside 0…1', () => {
    const series = histogram([1]).labels('x');
    expect(series.quantile(0.5)).toBeNull();
    expect(series.sketch()!.count).toBe(0);
    series.observe(1);
    expect(() => series.quantile(1.5)).toThrow(RangeError);
  });
});

function binsOf(sketch: DDSketch): Map<number, number> {
  const bins = new Map<number, number>();
  sketch.store.bins.forEach((count, index) => {
    if (count > 0) bins.set(index + sketch.store.offset, count);
  });
  return bins;
}
