import { DDSketch } from '@datadog/sketches-js';
import { describe, expect, it } from 'vitest';
import { sketchKey } from '../../src/recorder/sketch-key.js';
import { MAX_BINS, SketchStore, toDDSketch } from '../../src/recorder/sketch-store.js';
import { mulberry32 } from '../stats/fixtures.js';

/** Adds the way Histogram.observe does: in place when the key fits, else through addOutside. */
function add(store: SketchStore, value: number): void {
  const key = sketchKey(value);
  const index = key - store.offset;
  if (index >= 0 && index < store.length) store.bins[index]! += 1;
  else store.addOutside(key);
}

function keyCounts(store: SketchStore): Map<number, number> {
  const counts = new Map<number, number>();
  store.bins.forEach((count, index) => {
    if (count > 0) counts.set(index + store.offset, count);
  });
  return counts;
}

describe('SketchStore', () => {
  it.each([
    { name: 'rising', order: (values: number[]) => values.sort((a, b) => a - b) },
    { name: 'falling', order: (values: number[]) => values.sort((a, b) => b - a) },
    { name: 'shuffled', order: (values: number[]) => values },
  ])('counts $name values in the same bins as the library', ({ order }) => {
    const random = mulberry32(11);
    const values = order(Array.from({ length: 20_000 }, () => Math.exp((random() - 0.5) * 30)));
    const store = new SketchStore();
    const library = new DDSketch({ relativeAccuracy: 0.01 });
    for (const value of values) {
      add(store, value);
      library.accept(value);
    }
    const expected = new Map<number, number>();
    library.store.bins.forEach((count, index) => {
      if (count > 0) expected.set(index + library.store.offset, count);
    });
    expect(keyCounts(store)).toEqual(expected);
    expect(store.length).toBe(store.bins.length);
  });

  it('grows by doubling and keeps the length field in step', () => {
    const store = new SketchStore();
    const lengths = new Set<number>();
    for (let exponent = 0; exponent < 12; exponent += 0.25) {
      add(store, Math.pow(10, exponent));
      lengths.add(store.length);
    }
    // 12 decades at 1% take about 1,400 keys.
    expect([...lengths]).toEqual([128, 256, 512, 1024, 2048]);
    expect(store.total()).toBe(48);
  });

  it('never holds more than 2048 bins and folds the lowest values into the lowest bin', () => {
    const store = new SketchStore();
    const values = [1e-250, 1e-200, 1e-100, 1, 1e50, 1e100, 1e150, 1e200, 1e250];
    for (const value of values) add(store, value);
    expect(store.length).toBeLessThanOrEqual(MAX_BINS);
    expect(store.total()).toBe(values.length);
    // The highest key is kept exactly; everything more than 2048 keys below it is in the lowest bin.
    const top = sketchKey(1e250);
    const floor = top - MAX_BINS + 1;
    expect(keyCounts(store)).toEqual(new Map([[floor, values.length - 1], [top, 1]]));
  });

  it('adds a value below a full window without allocating a new array', () => {
    const store = new SketchStore();
    add(store, 1e200);
    add(store, 1e-100);
    const bins = store.bins;
    add(store, 1e-200);
    expect(store.bins).toBe(bins);
    expect(store.total()).toBe(3);
  });

  it('converts to a library DDSketch with the given summary', () => {
    const store = new SketchStore();
    for (const value of [0.5, 1, 2]) add(store, value);
    const sketch = toDDSketch(store, { count: 4, sum: 3.5, min: 0, max: 2 });
    expect([sketch.count, sketch.zeroCount, sketch.sum, sketch.min, sketch.max]).toEqual([4, 1, 3.5, 0, 2]);
    expect(sketch.getValueAtQuantile(0)).toBe(0);
  });
});
