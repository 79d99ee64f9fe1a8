import { DDSketch } from '@datadog/sketches-js';
import { describe, expect, it } from 'vitest';
import { QuantileSketch } from '../../src/stats/quantile-sketch.js';
import { exactQuantile, mulberry32, normal, relativeError } from './fixtures.js';

const N = 10_000;

/** Data shapes seen in agent runs: latencies, costs, token counts, retries. */
const SHAPES: readonly { name: string; draw: (random: () => number) => number }[] = [
  { name: 'uniform', draw: (random) => 0.05 + random() * 30 },
  { name: 'lognormal', draw: (random) => Math.exp(0.5 + 1.2 * normal(random)) },
  { name: 'exponential', draw: (random) => -Math.log(1 - random()) * 2.5 },
  {
    name: 'bimodal',
    // Fast cache hits around 0.2 s and slow tool-using runs around 8 s.
    draw: (random) => (random() < 0.7 ? Math.abs(0.2 + 0.03 * normal(random)) : Math.abs(8 + 1.5 * normal(random))),
  },
  // Pareto with alpha 1.16 (the 80/20 rule): a few runs cost orders of magnitude more.
  { name: 'heavy-tailed Pareto', draw: (random) => 0.001 / Math.pow(1 - random(), 1 / 1.16) },
  { name: 'many duplicates', draw: (random) => [0.25, 1, 1, 1, 3, 7.5, 120][Math.floor(random() * 7)]! },
  {
    name: 'mostly zeros with a few large values',
    draw: (random) => (random() < 0.96 ? 0 : 50 + random() * 5000),
  },
];

const QUANTILES = [
  { label: 'p50', q: 0.5 },
  { label: 'p95', q: 0.95 },
  { label: 'p99', q: 0.99 },
] as const;

function sample(draw: (random: () => number) => number, seed: number): number[] {
  const random = mulberry32(seed);
  return Array.from({ length: N }, () => draw(random));
}

function sketchOf(values: readonly number[]): QuantileSketch {
  const sketch = new QuantileSketch();
  for (const value of values) sketch.add(value);
  return sketch;
}

describe('QuantileSketch accuracy', () => {
  describe.each(SHAPES.map((shape, index) => ({ ...shape, seed: 1000 + index })))('on $name data', ({ name, draw, seed }) => {
    const values = sample(draw, seed);
    const sorted = [...values].sort((a, b) => a - b);
    const sketch = sketchOf(values);

    it.each(QUANTILES)(`keeps $label within 1% of the exact value on ${name} data`, ({ q }) => {
      const exact = exactQuantile(sorted, q);
      const estimate = sketch.quantile(q)!;
      // The bound is inclusive: a value on a bucket boundary (1.0 among the duplicates)
      // comes back exactly 1% low, give or take floating-point rounding.
      expect(relativeError(estimate, exact)).toBeLessThanOrEqual(0.01 + 1e-12);
    });

    it(`reports the exact count, sum, min and max of ${name} data`, () => {
      expect(sketch.count).toBe(N);
      expect(sketch.sum).toBeCloseTo(values.reduce((total, value) => total + value, 0), 6);
      expect(sketch.min).toBe(sorted[0]);
      expect(sketch.max).toBe(sorted[N - 1]);
    });
  });
});

describe('QuantileSketch', () => {
  it('returns null quantiles, min, max and mean when empty', () => {
    const sketch = new QuantileSketch();
    expect(sketch.quantile(0.5)).toBeNull();
    expect([sketch.count, sketch.sum, sketch.min, sketch.max, sketch.mean]).toEqual([0, 0, null, null, null]);
  });

  it('ignores NaN, infinities and negative values', () => {
    const sketch = sketchOf([Number.NaN, Infinity, -Infinity, -1, 2]);
    expect(sketch.count).toBe(1);
    expect(sketch.sum).toBe(2);
    expect(sketch.min).toBe(2);
  });

  it('keeps zeros exact, so the median of mostly-zero retries is 0', () => {
    const sketch = sketchOf([0, 0, 0, 0, 0, 0, 0, -0, 3, 12]);
    expect(sketch.quantile(0.5)).toBe(0);
    expect(sketch.min).toBe(0);
    expect(Object.is(sketch.min, -0)).toBe(false);
    expect(sketch.quantile(1)).toBe(12);
    expect(sketch.mean).toBe(1.5);
  });

  it('never reports a quantile outside the observed min and max', () => {
    const sketch = sketchOf([7.3, 7.3, 7.3]);
    expect([sketch.quantile(0), sketch.quantile(0.5), sketch.quantile(0.99), sketch.quantile(1)]).toEqual([7.3, 7.3, 7.3, 7.3]);
  });

  it('throws a RangeError for a quantile outside 0…1', () => {
    const sketch = sketchOf([1]);
    expect(() => sketch.quantile(1.5)).toThrow(RangeError);
    expect(() => sketch.quantile(Number.NaN)).toThrow(/between 0 and 1/);
  });

  it('gives the same quantiles after merging two halves as one sketch of all values', () => {
    const values = sample(SHAPES[1]!.draw, 7);
    const whole = sketchOf(values);
    const left = sketchOf(values.slice(0, 3_000));
    const right = sketchOf(values.slice(3_000));
    left.merge(right);
    for (const q of [0, 0.25, 0.5, 0.9, 0.95, 0.99, 1]) expect(left.quantile(q)).toBe(whole.quantile(q));
    expect([left.count, left.min, left.max]).toEqual([whole.count, whole.min, whole.max]);
    expect(left.sum).toBeCloseTo(whole.sum, 9);
    expect(right.count).toBe(N - 3_000);
  });

  it('merges into an empty sketch and from an empty sketch', () => {
    const empty = new QuantileSketch();
    const full = sketchOf([0, 1, 2]);
    empty.merge(full);
    full.merge(new QuantileSketch());
    expect([empty.count, empty.quantile(1), full.count]).toEqual([3, 2, 3]);
  });

  it('round-trips through base64 with exact count, sum, min, max and quantiles', () => {
    const sketch = sketchOf(sample(SHAPES[4]!.draw, 11));
    const restored = QuantileSketch.fromBase64(sketch.toBase64());
    expect([restored.count, restored.sum, restored.min, restored.max]).toEqual([sketch.count, sketch.sum, sketch.min, sketch.max]);
    for (const q of [0.5, 0.95, 0.99]) expect(restored.quantile(q)).toBe(sketch.quantile(q));
  });

  it('round-trips an empty sketch and a sketch of only zeros', () => {
    const empty = QuantileSketch.fromBase64(new QuantileSketch().toBase64());
    expect([empty.count, empty.quantile(0.5), empty.min]).toEqual([0, null, null]);
    const zeros = QuantileSketch.fromBytes(sketchOf([0, 0]).toBytes());
    expect([zeros.count, zeros.quantile(0.99), zeros.max]).toEqual([2, 0, 0]);
  });

  it('merges a sketch decoded from another process with a live one', () => {
    const live = sketchOf([1, 2, 3]);
    live.merge(QuantileSketch.fromBase64(sketchOf([10, 20]).toBase64()));
    expect([live.count, live.sum, live.min, live.max]).toEqual([5, 36, 1, 20]);
  });

  it('keeps its bytes a plain DDSketch message that the library itself decodes', () => {
    const decoded = DDSketch.fromProto(sketchOf([1, 2, 3, 0]).toBytes());
    expect(decoded.count).toBe(4);
    expect(decoded.zeroCount).toBe(1);
  });

  it('estimates sum, min and max within 1% for a DDSketch message without flowmeter fields', () => {
    const foreign = new DDSketch({ relativeAccuracy: 0.01 });
    for (const value of [0.5, 2, 40, 900]) foreign.accept(value);
    const sketch = QuantileSketch.fromBytes(foreign.toProto());
    expect(sketch.count).toBe(4);
    expect(relativeError(sketch.sum, 942.5)).toBeLessThanOrEqual(0.01);
    expect(relativeError(sketch.min!, 0.5)).toBeLessThanOrEqual(0.01);
    expect(relativeError(sketch.max!, 900)).toBeLessThanOrEqual(0.01);
  });

  it('rejects bytes that are not a DDSketch message', () => {
    expect(() => QuantileSketch.fromBase64('')).toThrow(TypeError);
    expect(() => QuantileSketch.fromBytes(new Uint8Array([0xff, 0xff, 0xff]))).toThrow(/not a DDSketch/);
  });

  it('rejects a sketch with another relative accuracy, whose buckets would not line up', () => {
    const coarse = new DDSketch({ relativeAccuracy: 0.02 });
    coarse.accept(1);
    expect(() => QuantileSketch.fromBytes(coarse.toProto())).toThrow(/relative accuracy/);
  });
});

describe('QuantileSketch.mergeBytes', () => {
  it('adds serialized sketches exactly as decoding and merging them would', () => {
    const random = mulberry32(77);
    const parts = Array.from({ length: 40 }, (_, i) => {
      const part = new QuantileSketch();
      const n = i % 7 === 0 ? 0 : 1 + Math.floor(random() * 50);
      for (let k = 0; k < n; k++) part.add(i % 5 === 0 ? 0 : Math.exp(random() * 12 - 3));
      return part;
    });
    const viaBytes = new QuantileSketch();
    const viaMerge = new QuantileSketch();
    for (const part of parts) {
      viaBytes.mergeBytes(part.toBytes());
      viaMerge.merge(QuantileSketch.fromBytes(part.toBytes()));
    }
    expect(viaBytes.count).toBe(viaMerge.count);
    expect(viaBytes.sum).toBeCloseTo(viaMerge.sum, 9);
    expect(viaBytes.min).toBe(viaMerge.min);
    expect(viaBytes.max).toBe(viaMerge.max);
    for (const q of [0, 0.1, 0.5, 0.9, 0.95, 0.99, 1]) expect(viaBytes.quantile(q)).toBe(viaMerge.quantile(q));
    expect(Buffer.from(viaBytes.toBytes())).toEqual(Buffer.from(viaMerge.toBytes()));
  });

  it('takes a foreign DDSketch message through the library', () => {
    const foreign = new DDSketch({ relativeAccuracy: 0.01 });
    for (const v of [1, 2, 3, 40]) foreign.accept(v);
    const sketch = new QuantileSketch();
    sketch.add(5);
    sketch.mergeBytes(foreign.toProto());
    expect(sketch.count).toBe(5);
    expect(Math.abs(sketch.quantile(1)! - 40) / 40).toBeLessThanOrEqual(0.01);
  });
});
