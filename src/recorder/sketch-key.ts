import { DDSketch } from '@datadog/sketches-js';
import { SKETCH_RELATIVE_ACCURACY } from '../stats/quantile-sketch.js';

/*
 * The DDSketch key of a value, exactly as @datadog/sketches-js computes it, in two thirds of
 * the time.
 *
 * The library's LogarithmicMapping computes key(v) = ceil(log2(v) * multiplier), with
 * multiplier = ln 2 / log1p(gamma - 1) and gamma = (1 + a) / (1 - a). V8 runs Math.log2 as a
 * call into C (fdlibm's log2): 9.8 ns per key on Node 20, two thirds of a 15 ns histogram
 * observation. `sketchKey` gets log2 from the exponent bits plus a 256-entry table and a
 * three-term series: 6.3 ns (same process and values, CPU time, best of 15 runs of 1M). It
 * takes the library's own path whenever the answer is within 1e-6 of a key boundary, where
 * the two could round differently. The series is off by at most 5e-12 in log2, 2e-10 in key
 * units, so 1e-6 leaves a margin of 5000x; about 2 values in a million take the slow path.
 * test/recorder/sketch-key.test.ts checks the keys against the library's on a million values
 * across the double range and on both sides of every key edge from 1e-9 to 1e12.
 */

const MAPPING = new DDSketch({ relativeAccuracy: SKETCH_RELATIVE_ACCURACY }).mapping;

/** Values at or below this go to DDSketch's zero bucket (the library's `minPossible`). */
export const MIN_INDEXABLE = MAPPING.minPossible;

/** The library's multiplier, computed with the same operations in the same order. */
export const KEY_MULTIPLIER = keyMultiplier(SKETCH_RELATIVE_ACCURACY);

function keyMultiplier(relativeAccuracy: number): number {
  const gammaMantissa = (2 * relativeAccuracy) / (1 - relativeAccuracy);
  let multiplier = 1 / Math.log1p(gammaMantissa);
  multiplier *= Math.log(2);
  return multiplier;
}

const CELL_BITS = 8;
const CELLS = 1 << CELL_BITS;
// Per mantissa cell, interleaved so one bounds check covers both: the reciprocal of the
// cell's midpoint (m / mid is within 1/512 of 1) and the midpoint's log2 in key units.
const CELL_TABLE = new Float64Array(2 * CELLS);
for (let cell = 0; cell < CELLS; cell++) {
  const mid = 1 + (cell + 0.5) / CELLS;
  CELL_TABLE[2 * cell] = 1 / mid;
  CELL_TABLE[2 * cell + 1] = Math.log2(mid) * KEY_MULTIPLIER;
}
// 2^-(e - 1023) for each biased exponent e of a normal double: scales v into [1, 2) exactly.
const UNSCALE = new Float64Array(2047);
for (let biased = 1; biased < 2047; biased++) UNSCALE[biased] = 2 ** -(biased - 1023);

// Module-local copies: V8 folds a module's own constants into optimized code, but reads an
// exported or imported binding through its cell, with a hole check, on every call.
const MULTIPLIER = KEY_MULTIPLIER;
// log2(1 + r) * multiplier = (r - r^2/2 + r^3/3) * log2(e) * multiplier + O(r^4), |r| <= 1/511.
const C1 = KEY_MULTIPLIER / Math.LN2;
const C2 = -0.5 * C1;
const C3 = C1 / 3;
const BOUNDARY_MARGIN = 1e-6;

const SCRATCH = new Float64Array(1);
// Little-endian: word 1 holds the sign, the exponent and the top 20 mantissa bits.
const SCRATCH_WORDS = new Uint32Array(SCRATCH.buffer);

/** The library's formula, operation for operation. */
export function exactSketchKey(value: number): number {
  return Math.ceil(Math.log2(value) * MULTIPLIER) | 0;
}

/** The DDSketch key of a finite `value` above `MIN_INDEXABLE`, identical to the library's (an int32). */
export function sketchKey(value: number): number {
  SCRATCH[0] = value;
  const high = SCRATCH_WORDS[1]!;
  const biased = high >>> 20;
  // Subnormals (and anything with the sign bit, which callers never pass) take the exact path.
  if (biased === 0 || biased >= 2047) return exactSketchKey(value);
  const cell = ((high >>> (20 - CELL_BITS)) & (CELLS - 1)) << 1;
  const r = value * UNSCALE[biased]! * CELL_TABLE[cell]! - 1;
  const scaled = (biased - 1023) * MULTIPLIER + CELL_TABLE[cell + 1]! + r * (C1 + r * (C2 + r * C3));
  const key = Math.ceil(scaled);
  const gap = key - scaled;
  return gap > BOUNDARY_MARGIN && gap < 1 - BOUNDARY_MARGIN ? key | 0 : exactSketchKey(value);
}

// Bucket edges and values from micro-dollars to hours, tokens to millions, and the extremes.
const KEY_PROBES = [MIN_INDEXABLE * 2, 1e-300, 1e-12, 3.7e-6, 0.00123, 0.01, 0.5, 1, 1.0201, 1.5, 2, 42, 999.9, 123_456, 7.5e9, 1e300];

/**
 * Throws when the installed @datadog/sketches-js maps values to keys differently from the
 * recorder (an upgrade that changed the mapping): merged sketches would be misaligned.
 */
export function checkKeyMapping(): void {
  for (const value of KEY_PROBES) {
    const expected = MAPPING.key(value);
    if (sketchKey(value) !== expected || exactSketchKey(value) !== expected) {
      throw new Error(
        `flowmeter recorder: @datadog/sketches-js maps ${value} to key ${expected}, the recorder to ${sketchKey(value)}; ` +
          'the recorder sketch key must follow the installed library version',
      );
    }
  }
}

/** The representative value of a key (the library's `mapping.value`). */
export function keyValue(key: number): number {
  return MAPPING.value(key);
}
