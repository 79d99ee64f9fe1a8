import { MIN_INDEXABLE, sketchKey } from './sketch-key.js';

/**
 * Maps a DDSketch key to the explicit bucket of the values with that key, so a histogram
 * finds its bucket from the key it computes for the sketch anyway: one table load, no search.
 *
 * Bucket i holds values in (bound[i-1], bound[i]] (Prometheus `le`). The entry for key k is
 * the number of bounds whose own key is below k: those bounds are below every value with
 * key k, since the key grows with the value, and the bounds with a higher key are above it.
 * Only where a bound has key k can a value with key k sit on either side of it; there the
 * entry is stored complemented (negative) and the caller compares against the bounds. The
 * neighbouring keys are marked too, so that if log2 rounding ever broke monotonicity by an
 * ulp at a key edge, the comparison would still settle it.
 */
export interface BucketTable {
  /** Entry i is for key `base + i`; negative entries (`~bucket`) ask for a comparison. */
  readonly entries: Int32Array;
  readonly base: number;
  /** Bucket for keys below `base`: the number of bounds at or below MIN_INDEXABLE. */
  readonly below: number;
}

export function buildBucketTable(bounds: Float64Array): BucketTable {
  let unkeyed = 0;
  while (unkeyed < bounds.length && !(bounds[unkeyed]! > MIN_INDEXABLE)) unkeyed++;
  if (unkeyed === bounds.length) return { entries: new Int32Array(0), base: 0, below: unkeyed };
  const keys = Array.from(bounds.subarray(unkeyed), (bound) => sketchKey(bound));
  // One spare key on each side, so keys outside the table are never next to a bound's key.
  // Bounds from 1e-9 to 1e9 take 2,100 entries.
  const base = keys[0]! - 1;
  const entries = new Int32Array(keys[keys.length - 1]! - base + 2);
  let below = 0;
  for (let i = 0; i < entries.length; i++) {
    while (below < keys.length && keys[below]! < base + i) below++;
    entries[i] = unkeyed + below;
  }
  for (const key of keys) {
    for (let near = key - 1; near <= key + 1; near++) {
      const index = near - base;
      if (entries[index]! >= 0) entries[index] = ~entries[index]!;
    }
  }
  return { entries, base, below: unkeyed };
}

/** The bucket of `value` by comparison, starting from `bucket`: for zeros and for keys next to a bound. */
export function settleBucket(bounds: Float64Array, value: number, start: number): number {
  let bucket = start;
  while (bucket < bounds.length && value > bounds[bucket]!) bucket++;
  while (bucket > 0 && value <= bounds[bucket - 1]!) bucket--;
  return bucket;
}
