import { DDSketch } from '@datadog/sketches-js';
import protobuf from 'protobufjs/minimal.js';
import { invalidNonNegative } from '../model/values.js';

/**
 * Every flowmeter sketch answers within 1% of the true value (DESIGN.md, principle 4).
 * enzu answers from fixed histogram buckets, so its error is a bucket width: its p50 of
 * 0.5…9.5 comes out 2.67. A sketch's error is relative to the value, at every scale.
 */
export const SKETCH_RELATIVE_ACCURACY = 0.01;

/** What the summary trailer carries; absent fields are estimated from the bins. */
interface SketchSummary {
  sum?: number;
  min?: number;
  max?: number;
}

// The DDSketch protobuf message uses fields 1–4, and the library's `fromProto` "currently
// loses summary statistics (min, max)" — and the sum with them. We append those as extra
// double fields. Protobuf readers skip unknown fields, so the bytes stay a plain DDSketch
// message that DDSketch in any language can decode; only flowmeter reads the extras back.
const SUM_FIELD = 1001;
const MIN_FIELD = 1002;
const MAX_FIELD = 1003;
const WIRE_FIXED64 = 1;

// Decoded sketches must use exactly our key mapping: the library's `merge` only compares
// gamma, so a different index offset or interpolation would merge misaligned buckets.
const REFERENCE_MAPPING = new DDSketch({ relativeAccuracy: SKETCH_RELATIVE_ACCURACY }).mapping;
// Values spread over the ranges we record (micro-dollars to hours, tokens to millions);
// any other offset or interpolation puts at least one of them in a different bucket.
const MAPPING_PROBES = [1e-9, 3.7e-6, 0.00123, 0.5, 1, 1.5, 2.71828, 42, 999.9, 123_456, 7.5e9];

/**
 * A mergeable quantile sketch of non-negative values (durations, costs, token counts,
 * retries) with 1% relative accuracy. Zeros land in DDSketch's exact zero bucket, which
 * matters for retries, where most runs have none.
 */
export class QuantileSketch {
  readonly #sketch = new DDSketch({ relativeAccuracy: SKETCH_RELATIVE_ACCURACY });

  /**
   * Adds one value. Callers validate and count bad values (STYLE.md, error tier 2); this
   * only guards the sketch, so NaN, infinities and negatives are dropped without a word.
   */
  add(value: number): void {
    if (invalidNonNegative(value) !== null) return;
    // -0 is a zero; store +0 so min never reads -0, which Object.is and toEqual tell apart.
    this.#sketch.accept(value === 0 ? 0 : value);
  }

  /**
   * The value at quantile `q` (0…1), within 1% of the exact value at rank `q * (count - 1)`
   * (the library's rank rule, lower neighbour), or null when nothing was added.
   */
  quantile(q: number): number | null {
    if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile must be between 0 and 1, got ${q}`);
    if (this.count === 0) return null;
    // Ranks 0 and count - 1 are the min and max, which are kept exactly.
    if (q === 0) return this.#sketch.min;
    if (q === 1) return this.#sketch.max;
    const value = this.#sketch.getValueAtQuantile(q);
    // A bucket's representative value may lie up to 1% beyond the data (p99 above the max);
    // the exact min and max are better bounds, so the answer never leaves the observed range.
    return Math.min(Math.max(value, this.#sketch.min), this.#sketch.max);
  }

  get count(): number {
    return this.#sketch.count;
  }

  /** Exact sum of the added values (kept beside the bins, not estimated from them). */
  get sum(): number {
    return this.#sketch.sum;
  }

  get min(): number | null {
    return this.count === 0 ? null : this.#sketch.min;
  }

  get max(): number | null {
    return this.count === 0 ? null : this.#sketch.max;
  }

  get mean(): number | null {
    return this.count === 0 ? null : this.#sketch.sum / this.#sketch.count;
  }

  /** Adds every value of `other` to this sketch; `other` is left unchanged. */
  merge(other: QuantileSketch): void {
    this.#sketch.merge(other.#sketch);
  }

  /** The library's DDSketch protobuf message, followed by the exact sum, min and max. */
  toBytes(): Uint8Array {
    const head = this.#sketch.toProto();
    const writer = protobuf.Writer.create();
    if (this.count > 0) {
      writer.uint32((SUM_FIELD << 3) | WIRE_FIXED64).double(this.#sketch.sum);
      writer.uint32((MIN_FIELD << 3) | WIRE_FIXED64).double(this.#sketch.min);
      writer.uint32((MAX_FIELD << 3) | WIRE_FIXED64).double(this.#sketch.max);
    }
    const trailer = writer.finish();
    const bytes = new Uint8Array(head.length + trailer.length);
    bytes.set(head, 0);
    bytes.set(trailer, head.length);
    return bytes;
  }

  toBase64(): string {
    return Buffer.from(this.toBytes()).toString('base64');
  }

  /**
   * Decodes a sketch written by `toBytes`, here or in another process. A DDSketch message
   * from elsewhere (another language, no summary trailer) is accepted too: its sum, min
   * and max are then estimated from the bins, each within 1%.
   * Throws a TypeError when the bytes are not a DDSketch with flowmeter's 1% mapping.
   */
  static fromBytes(bytes: Uint8Array): QuantileSketch {
    let decoded: DDSketch;
    try {
      decoded = DDSketch.fromProto(bytes);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new TypeError(`QuantileSketch.fromBytes: not a DDSketch protobuf message (${reason})`);
    }
    if (!sameMapping(decoded.mapping)) {
      throw new TypeError(
        `QuantileSketch.fromBytes: the sketch's mapping (gamma ${decoded.mapping.gamma}) differs from flowmeter's ` +
          `logarithmic mapping with ${SKETCH_RELATIVE_ACCURACY} relative accuracy (gamma ${REFERENCE_MAPPING.gamma}); ` +
          're-create the sketch with that mapping',
      );
    }
    if (decoded.negativeStore.count > 0) {
      // The library's merge ignores negative bins, so accepting them would lose data later.
      throw new TypeError('QuantileSketch.fromBytes: the sketch holds negative values; run statistics are non-negative');
    }
    if (decoded.count > 0) {
      const summary = readSummary(bytes);
      decoded.sum = summary.sum ?? estimateSum(decoded);
      decoded.min = summary.min ?? decoded.getValueAtQuantile(0);
      decoded.max = summary.max ?? decoded.getValueAtQuantile(1);
    }
    // Copy the bins into a sketch built here rather than keeping the decoded one: its mapping
    // is rebuilt from the encoded gamma and answers a few ULPs apart, while ours answers
    // exactly as the sketch that was encoded.
    const sketch = new QuantileSketch();
    sketch.#sketch.merge(decoded);
    return sketch;
  }

  static fromBase64(text: string): QuantileSketch {
    return QuantileSketch.fromBytes(Buffer.from(text, 'base64'));
  }
}

// The library's `toProto()` typings for the mapping do not resolve, so the comparison is
// made through the typed `key()` instead of the encoded gamma, offset and interpolation.
function sameMapping(mapping: DDSketch['mapping']): boolean {
  return (
    mapping.gamma === REFERENCE_MAPPING.gamma &&
    MAPPING_PROBES.every((value) => mapping.key(value) === REFERENCE_MAPPING.key(value))
  );
}

function readSummary(bytes: Uint8Array): SketchSummary {
  const summary: SketchSummary = {};
  const reader = protobuf.Reader.create(bytes);
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    const field = tag >>> 3;
    const wireType = tag & 7;
    if (wireType === WIRE_FIXED64 && field === SUM_FIELD) summary.sum = reader.double();
    else if (wireType === WIRE_FIXED64 && field === MIN_FIELD) summary.min = reader.double();
    else if (wireType === WIRE_FIXED64 && field === MAX_FIELD) summary.max = reader.double();
    else reader.skipType(wireType);
  }
  return summary;
}

/** Sum of bucket representatives times counts: each term is within 1%, so the sum is too. */
function estimateSum(sketch: DDSketch): number {
  const { store, mapping } = sketch;
  let sum = 0;
  store.bins.forEach((count, index) => {
    if (count > 0) sum += count * mapping.value(index + store.offset);
  });
  return sum;
}
