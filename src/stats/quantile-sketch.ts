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
const WIRE_VARINT = 0;
const WIRE_LEN = 2;
const TAG_SIZE_1001 = 2;

/** The fields of the library's DenseStore that the codec reads and writes. */
interface DenseStoreFields {
  bins: number[];
  count: number;
  minKey: number;
  maxKey: number;
  offset: number;
}

function zigzag(n: number): number {
  return n >= 0 ? n * 2 : -n * 2 - 1;
}

function unzigzag(n: number): number {
  return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
}

function varintSize(n: number): number {
  let size = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

function writeVarint(bytes: Uint8Array, pos: number, n: number): number {
  while (n >= 128) {
    bytes[pos++] = (n % 128) | 128;
    n = Math.floor(n / 128);
  }
  bytes[pos++] = n;
  return pos;
}

function readVarint(bytes: Uint8Array, pos: number): [number, number] {
  let value = 0;
  let scale = 1;
  for (;;) {
    const byte = bytes[pos++];
    if (byte === undefined) return [Number.NaN, pos];
    value += (byte & 127) * scale;
    if (byte < 128) return [value, pos];
    scale *= 128;
  }
}

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  for (let i = 0; i < prefix.length; i++) if (bytes[i] !== prefix[i]) return false;
  return true;
}

// Decoded sketches must use exactly our key mapping: the library's `merge` only compares
// gamma, so a different index offset or interpolation would merge misaligned buckets.
const REFERENCE_MAPPING = new DDSketch({ relativeAccuracy: SKETCH_RELATIVE_ACCURACY }).mapping;
// The mapping field (field 1) exactly as the library writes it for flowmeter's sketches:
// taken from the library's own encoding of an empty sketch, so the bytes cannot drift.
const MAPPING_FIELD: Uint8Array = (() => {
  const encoded = new DDSketch({ relativeAccuracy: SKETCH_RELATIVE_ACCURACY }).toProto();
  const reader = protobuf.Reader.create(encoded);
  const tag = reader.uint32();
  if (tag >>> 3 !== 1 || (tag & 7) !== WIRE_LEN) throw new Error('unexpected DDSketch encoding: mapping is not field 1');
  const length = reader.uint32();
  return encoded.slice(0, reader.pos + length);
})();

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

  /**
   * The DDSketch protobuf message (mapping, positive bins, empty negative store, zero
   * count), followed by the exact sum, min and max. Written by hand: the bytes are what the
   * library's `toProto` writes, at a fraction of its cost (a store rewrites many rollup
   * sketches in every transaction).
   */
  toBytes(): Uint8Array {
    const store = this.#sketch.store as unknown as DenseStoreFields;
    // Only the span of bins that holds counts is written; the offset says where it starts.
    let first = 0;
    let last = store.bins.length - 1;
    if (store.count > 0) {
      first = store.minKey - store.offset;
      last = store.maxKey - store.offset;
    } else {
      last = -1;
    }
    const n = Math.max(0, last - first + 1);
    const packedLength = n * 8;
    const offsetKey = store.count > 0 ? store.minKey : 0;
    const offsetBytes = offsetKey === 0 ? 0 : 1 + varintSize(zigzag(offsetKey));
    const packedField = n === 0 ? 0 : 1 + varintSize(packedLength) + packedLength;
    const storeLength = packedField + offsetBytes;
    const zero = this.#sketch.zeroCount;
    const trailer = this.count > 0 ? 3 * (TAG_SIZE_1001 + 8) : 0;
    const total = MAPPING_FIELD.length + 1 + varintSize(storeLength) + storeLength + 2 + (zero !== 0 ? 9 : 0) + trailer;
    const bytes = new Uint8Array(total);
    const view = new DataView(bytes.buffer);
    let pos = 0;
    bytes.set(MAPPING_FIELD, pos);
    pos += MAPPING_FIELD.length;
    bytes[pos++] = (2 << 3) | WIRE_LEN;
    pos = writeVarint(bytes, pos, storeLength);
    if (n > 0) {
      bytes[pos++] = (2 << 3) | WIRE_LEN;
      pos = writeVarint(bytes, pos, packedLength);
      for (let i = 0; i < n; i++) {
        view.setFloat64(pos, store.bins[first + i] ?? 0, true);
        pos += 8;
      }
    }
    if (offsetKey !== 0) {
      bytes[pos++] = (3 << 3) | WIRE_VARINT;
      pos = writeVarint(bytes, pos, zigzag(offsetKey));
    }
    // An empty negative store, present because the library's decoder requires it.
    bytes[pos++] = (3 << 3) | WIRE_LEN;
    bytes[pos++] = 0;
    if (zero !== 0) {
      bytes[pos++] = (4 << 3) | WIRE_FIXED64;
      view.setFloat64(pos, zero, true);
      pos += 8;
    }
    if (this.count > 0) {
      for (const [field, value] of [
        [SUM_FIELD, this.#sketch.sum],
        [MIN_FIELD, this.#sketch.min],
        [MAX_FIELD, this.#sketch.max],
      ] as const) {
        pos = writeVarint(bytes, pos, (field << 3) | WIRE_FIXED64);
        view.setFloat64(pos, value, true);
        pos += 8;
      }
    }
    return pos === total ? bytes : bytes.subarray(0, pos);
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
    const fast = QuantileSketch.#fromOwnBytes(bytes);
    if (fast !== null) return fast;
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

  /**
   * Reads what `toBytes` writes without the protobuf library: null for anything else (a
   * sketch from another language, another mapping), which the general path then reads or
   * rejects.
   */
  static #fromOwnBytes(bytes: Uint8Array): QuantileSketch | null {
    if (bytes.length < MAPPING_FIELD.length || !startsWith(bytes, MAPPING_FIELD)) return null;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let pos = MAPPING_FIELD.length;
    let bins: Float64Array | null = null;
    let offset = 0;
    let zero = 0;
    const summary: SketchSummary = {};
    while (pos < bytes.length) {
      const [tag, afterTag] = readVarint(bytes, pos);
      pos = afterTag;
      const field = tag >>> 3;
      const wire = tag & 7;
      if (field === 2 && wire === WIRE_LEN) {
        const [length, start] = readVarint(bytes, pos);
        const end = start + length;
        pos = start;
        while (pos < end) {
          const [inner, afterInner] = readVarint(bytes, pos);
          pos = afterInner;
          if (inner === ((2 << 3) | WIRE_LEN)) {
            const [packed, at] = readVarint(bytes, pos);
            if (packed % 8 !== 0 || at + packed > end) return null;
            bins = new Float64Array(packed / 8);
            for (let i = 0; i < bins.length; i++) bins[i] = view.getFloat64(at + i * 8, true);
            pos = at + packed;
          } else if (inner === ((3 << 3) | WIRE_VARINT)) {
            const [raw, after] = readVarint(bytes, pos);
            offset = unzigzag(raw);
            pos = after;
          } else {
            return null;
          }
        }
      } else if (field === 3 && wire === WIRE_LEN) {
        const [length, start] = readVarint(bytes, pos);
        // Only an empty negative store is ours; one with bins goes the general way (and is rejected there).
        if (length !== 0) return null;
        pos = start;
      } else if (wire === WIRE_FIXED64 && pos + 8 <= bytes.length) {
        const value = view.getFloat64(pos, true);
        pos += 8;
        if (field === 4) zero = value;
        else if (field === SUM_FIELD) summary.sum = value;
        else if (field === MIN_FIELD) summary.min = value;
        else if (field === MAX_FIELD) summary.max = value;
        else return null;
      } else {
        return null;
      }
    }
    const sketch = new QuantileSketch();
    const inner = sketch.#sketch;
    const store = inner.store as unknown as DenseStoreFields;
    let count = 0;
    if (bins !== null && bins.length > 0) {
      // Filled directly rather than bin by bin through `add`, which regrows the array as keys arrive.
      let lo = -1;
      let hi = -1;
      const copy = new Array<number>(bins.length);
      for (let i = 0; i < bins.length; i++) {
        const c = bins[i] ?? 0;
        if (!(c >= 0) || !Number.isFinite(c)) return null;
        copy[i] = c;
        count += c;
        if (c > 0) {
          if (lo < 0) lo = i;
          hi = i;
        }
      }
      if (lo >= 0) {
        store.bins = copy;
        store.offset = offset;
        store.minKey = offset + lo;
        store.maxKey = offset + hi;
        store.count = count;
      }
    }
    if (count > 0 && (summary.sum === undefined || summary.min === undefined || summary.max === undefined)) return null;
    inner.zeroCount = zero;
    inner.count = count + zero;
    if (inner.count > 0) {
      inner.sum = summary.sum ?? 0;
      inner.min = summary.min ?? 0;
      inner.max = summary.max ?? 0;
    }
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
