import { describe, expect, it } from 'vitest';
import { QuantileSketch } from '../../src/stats/quantile-sketch.js';
import { RunStats } from '../../src/stats/run-stats.js';
import { runEvent } from '../stats/fixtures.js';

/**
 * enzu's collector interpolates percentiles inside fixed histogram buckets and counts
 * bucket members twice, so the median of 0.5, 1.5, …, 9.5 comes out 2.67 (DESIGN.md,
 * "The seed systems we absorb"). flowmeter reads percentiles from a DDSketch instead.
 */
const VALUES = [0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5, 9.5];

// The exact median under the sketch's rank rule: rank 0.5 * (10 - 1) = 4.5, lower
// neighbour, so the 5th smallest value.
const EXACT_MEDIAN = 4.5;

describe("enzu's median interpolation bug", () => {
  it('puts the median of 0.5…9.5 within 1% of the exact median, not at 2.67', () => {
    const sketch = new QuantileSketch();
    for (const value of VALUES) sketch.add(value);
    const median = sketch.quantile(0.5)!;
    expect(Math.abs(median - EXACT_MEDIAN) / EXACT_MEDIAN).toBeLessThanOrEqual(0.01);
    expect(Math.abs(median - 2.67)).toBeGreaterThan(1);
  });

  it('reports the same median in a RunStats snapshot of runs taking 0.5…9.5 seconds', () => {
    const stats = new RunStats();
    for (const seconds of VALUES) stats.observe(runEvent({ elapsed_seconds: seconds }));
    const median = stats.snapshot().percentiles.elapsed_seconds.p50!;
    expect(Math.abs(median - EXACT_MEDIAN) / EXACT_MEDIAN).toBeLessThanOrEqual(0.01);
  });
});
