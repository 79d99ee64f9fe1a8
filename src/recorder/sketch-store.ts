import { DDSketch } from '@datadog/sketches-js';
import protobuf from 'protobufjs/minimal.js';
import { QuantileSketch, SKETCH_RELATIVE_ACCURACY } from '../stats/quantile-sketch.js';
import { keyValue } from './sketch-key.js';

/*
 * Why not one @datadog/sketches-js DDSketch per series: `accept()` took 21 ns per value on
 * Node 20, against 7.4 ns for `sketchKey` plus one Float64Array increment here (same
 * process, same log-uniform latencies, CPU time, best of 15 runs of 1M). 21 ns alone is over
 * the 15 ns budget of a whole histogram observation. The library's DenseStore also keeps its
 * counts in a plain array that it grows with `push(...new Array(n))` and `slice`. This store
 * keeps the same bins in a Float64Array, indexed by the library's own keys
 * (src/recorder/sketch-key.ts), so `toDDSketch()` rebuilds exactly the sketch the library
 * would have built from the same values, and the result merges with every `QuantileSketch`
 * (src/stats).
 */

/**
 * The library's default sketch is unbounded. Here a series keeps at most 2048 bins, like the
 * library's LogCollapsingLowestDenseDDSketch: 2048 bins at 1% span 17 decades (1 ms to
 * 6e14 s), and values further below the highest are folded into the lowest bin, so the high
 * percentiles keep their 1% and a stray 1e-300 cannot cost a series 500 kB.
 */
export const MAX_BINS = 2048;
const FIRST_BINS = 128;
const NO_BINS = new Float64Array(0);

/**
 * Positive-value bins of one series' sketch: `bins[i]` counts values with key `offset + i`.
 * The zero bucket, count, sum, min and max live in the histogram's typed arrays.
 */
export class SketchStore {
  bins: Float64Array = NO_BINS;
  /** `bins.length`, kept as a small integer for the hot path. */
  length = 0;
  /** Key of `bins[0]`. */
  offset = 0;

  /** Counts one value whose key is outside `bins`: grows, shifts or collapses (allocates rarely). */
  addOutside(key: number): void {
    const bins = this.bins;
    if (bins.length === 0) {
      this.bins = new Float64Array(FIRST_BINS);
      this.length = FIRST_BINS;
      this.offset = key - FIRST_BINS / 2;
      this.bins[FIRST_BINS / 2] = 1;
      return;
    }
    let first = 0;
    while (bins[first] === 0) first++;
    let last = bins.length - 1;
    while (bins[last] === 0) last--;
    const high = Math.max(last + this.offset, key);
    const low = Math.max(Math.min(first + this.offset, key), high - MAX_BINS + 1);
    const needed = high - low + 1;
    if (low >= this.offset && high < this.offset + bins.length) {
      // Only the collapse case lands here: the key is below the lowest kept bin.
      bins[Math.max(key, low) - this.offset]! += 1;
      return;
    }
    let length = bins.length;
    while (length < needed) length *= 2;
    length = Math.min(length, MAX_BINS);
    // Leave most of the spare room on the side that grew: values drift the same way again.
    const spare = length - needed;
    const offset = key > last + this.offset ? low - (spare >> 2) : low - spare + (spare >> 2);
    const grown = new Float64Array(length);
    for (let i = first; i <= last; i++) {
      const count = bins[i]!;
      if (count !== 0) grown[Math.max(i + this.offset, low) - offset]! += count;
    }
    grown[Math.max(key, low) - offset]! += 1;
    this.bins = grown;
    this.length = length;
    this.offset = offset;
  }

  /** Number of values in the bins (every positive value; zeros are counted elsewhere). */
  total(): number {
    const bins = this.bins;
    let total = 0;
    for (let i = 0; i < bins.length; i++) total += bins[i]!;
    return total;
  }

  /** The key at `rank` among the binned values, with the library's lower-rank rule. */
  keyAtRank(rank: number): number {
    const bins = this.bins;
    let running = 0;
    let last = this.offset;
    for (let i = 0; i < bins.length; i++) {
      const count = bins[i]!;
      if (count === 0) continue;
      running += count;
      last = i + this.offset;
      if (running > rank) return last;
    }
    return last;
  }
}

/** A series' distribution as read from the histogram arrays. */
export interface SketchSummary {
  readonly count: number;
  readonly sum: number;
  readonly min: number;
  readonly max: number;
}

/**
 * The value at quantile `q` with `QuantileSketch.quantile`'s rules: rank q * (count - 1),
 * exact min and max at 0 and 1, and answers kept inside [min, max]. Null when empty.
 */
export function storeQuantile(store: SketchStore, summary: SketchSummary, q: number): number | null {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile must be between 0 and 1, got ${q}`);
  if (summary.count === 0) return null;
  if (q === 0) return summary.min;
  if (q === 1) return summary.max;
  const rank = q * (summary.count - 1);
  const zeros = summary.count - store.total();
  const value = rank < zeros ? 0 : keyValue(store.keyAtRank(rank - zeros));
  return Math.min(Math.max(value, summary.min), summary.max);
}

/** The library sketch holding exactly these bins and summary (a fresh object, the store is untouched). */
export function toDDSketch(store: SketchStore, summary: SketchSummary): DDSketch {
  const sketch = new DDSketch({ relativeAccuracy: SKETCH_RELATIVE_ACCURACY });
  if (summary.count === 0) return sketch;
  const bins = store.bins;
  for (let i = 0; i < bins.length; i++) {
    const count = bins[i]!;
    if (count !== 0) sketch.store.add(i + store.offset, count);
  }
  sketch.zeroCount = summary.count - sketch.store.count;
  sketch.count = summary.count;
  sketch.sum = summary.sum;
  sketch.min = summary.min;
  sketch.max = summary.max;
  return sketch;
}

// QuantileSketch.toBytes() wire format (src/stats/quantile-sketch.ts): a DDSketch protobuf
// message followed by the exact sum, min and max as doubles in fields 1001–1003. Going
// through the bytes is the public way into a QuantileSketch with exact summary statistics.
const SUM_FIELD = 1001;
const MIN_FIELD = 1002;
const MAX_FIELD = 1003;
const WIRE_FIXED64 = 1;

/** A QuantileSketch (src/stats) equal to this series' distribution, for merging and snapshots. */
export function toQuantileSketch(store: SketchStore, summary: SketchSummary): QuantileSketch {
  if (summary.count === 0) return new QuantileSketch();
  const head = toDDSketch(store, summary).toProto();
  const trailer = protobuf.Writer.create();
  trailer.uint32((SUM_FIELD << 3) | WIRE_FIXED64).double(summary.sum);
  trailer.uint32((MIN_FIELD << 3) | WIRE_FIXED64).double(summary.min);
  trailer.uint32((MAX_FIELD << 3) | WIRE_FIXED64).double(summary.max);
  const tail = trailer.finish();
  const bytes = new Uint8Array(head.length + tail.length);
  bytes.set(head, 0);
  bytes.set(tail, head.length);
  return QuantileSketch.fromBytes(bytes);
}
