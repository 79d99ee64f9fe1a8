import { labelNameProblem, sanitizeLabelValue } from '../model/labels.js';
import type { RecorderHooks } from './values.js';

/** How a metric is declared. Names follow the Prometheus naming guide (base units, `_total`). */
export interface MetricDef {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  /** Series cap for this metric; past it new label sets share one overflow series. Default 2000. */
  readonly maxSeries?: number;
  readonly unit?: string;
}

export type MetricType = 'counter' | 'gauge' | 'histogram';

/** The value every label of the overflow series carries. It passes the label character filter. */
export const OVERFLOW_LABEL_VALUE = '__overflow__';

export const DEFAULT_MAX_SERIES = 2000;

// Prometheus data model: metric names match [a-zA-Z_:][a-zA-Z0-9_:]*.
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

// Label values are cached by their raw text, so a caller that puts e-mails in a label would
// grow the cache without bound even though every one of them lands in `redacted_email`. Past
// this many raw label sets per allowed series, lookups still resolve correctly but stop caching.
const RAW_SETS_PER_SERIES = 4;

// The fast lookup takes up to this many labels as plain parameters (see `labels`).
const FAST_ARITY = 8;

const FIRST_CAPACITY = 8;

type Level = Map<unknown, unknown>;

/** Checks a definition and returns its series cap; throws an Error that says what to fix. */
export function checkMetricDef(def: MetricDef, reservedLabels: readonly string[], defaultMaxSeries: number): number {
  if (typeof def.name !== 'string' || !METRIC_NAME.test(def.name)) {
    throw new Error(`metric name ${JSON.stringify(def.name)} is invalid; Prometheus metric names match [a-zA-Z_:][a-zA-Z0-9_:]*`);
  }
  if (typeof def.help !== 'string') throw new Error(`${def.name}: help must be a string that says what the metric measures`);
  if (!Array.isArray(def.labelNames)) throw new Error(`${def.name}: labelNames must be an array of label names ([] for none)`);
  const seen = new Set<string>();
  for (const label of def.labelNames as readonly unknown[]) {
    if (typeof label !== 'string') throw new Error(`${def.name}: label names must be strings, got ${String(label)}`);
    const problem = labelNameProblem(label);
    if (problem !== null) throw new Error(`${def.name}: ${problem}`);
    if (reservedLabels.includes(label)) throw new Error(`${def.name}: label name ${label} is reserved for this metric type`);
    if (seen.has(label)) throw new Error(`${def.name}: label name ${label} is listed twice`);
    seen.add(label);
  }
  const maxSeries = def.maxSeries ?? defaultMaxSeries;
  if (!Number.isSafeInteger(maxSeries) || maxSeries < 1) {
    throw new Error(`${def.name}: maxSeries must be a positive integer, got ${String(def.maxSeries)}`);
  }
  return maxSeries;
}

/**
 * The series of one metric: interning of label sets, the cardinality cap and slot numbering.
 * The concrete families keep their values in typed arrays indexed by slot and hand out one
 * handle object per series.
 *
 * A label set is looked up by its raw values in a trie of Maps, one level per label, so a
 * repeated lookup hashes strings V8 has already hashed and builds nothing. Only a miss
 * sanitizes, joins, and interns.
 */
export abstract class SeriesFamily<H extends object> {
  abstract readonly type: MetricType;
  readonly name: string;
  readonly help: string;
  readonly unit: string | undefined;
  readonly labelNames: readonly string[];
  readonly maxSeries: number;

  protected readonly hooks: RecorderHooks;
  readonly #arity: number;
  readonly #root: Level = new Map();
  readonly #bySanitized = new Map<string, H>();
  readonly #handles: H[] = [];
  readonly #labelValues: (readonly string[])[] = [];
  readonly #rawCacheLimit: number;
  #rawCached = 0;
  #capacity = 0;
  #overflow: H | undefined;
  #single: H | undefined;

  protected constructor(def: MetricDef, maxSeries: number, hooks: RecorderHooks) {
    this.name = def.name;
    this.help = def.help;
    this.unit = def.unit;
    this.labelNames = Object.freeze([...def.labelNames]);
    this.maxSeries = maxSeries;
    this.hooks = hooks;
    this.#arity = def.labelNames.length;
    this.#rawCacheLimit = maxSeries * RAW_SETS_PER_SERIES;
  }

  /** Creates the one series of a metric without labels (exposition shows it at 0 from the start). */
  protected init(): void {
    if (this.#arity === 0) this.#single = this.#resolve([]);
  }

  /** Makes room for `capacity` series in the typed arrays, keeping the values of existing slots. */
  protected abstract grow(capacity: number): void;

  /** The handle for a new slot, after `grow` made room for it. */
  protected abstract createHandle(slot: number): H;

  /** Number of series, the overflow series included once it exists. */
  get seriesCount(): number {
    return this.#handles.length;
  }

  /**
   * The handle for one label set, values in `labelNames` order. The first call for a set
   * sanitizes and redacts the values (src/model/labels), applies the series cap and interns;
   * later calls with the same raw values return the same handle without allocating.
   * A wrong number of values is not an error here (the hot path never throws): missing
   * values become `unknown`, extra ones are ignored, and `onDrop` hears `label_count`.
   */
  labels(...values: string[]): H;
  // A rest parameter would allocate an array on every call: measured on Node 20, 10M
  // three-label lookups took 394 scavenges with `...values` and none with plain parameters.
  labels(v0?: string, v1?: string, v2?: string, v3?: string, v4?: string, v5?: string, v6?: string, v7?: string): H {
    const arity = this.#arity;
    // Reading arguments.length does not materialize `arguments` in optimized code.
    const given = arguments.length;
    if (given === arity && arity <= FAST_ARITY) {
      if (arity === 0) return this.#single as H;
      let node: unknown = this.#root.get(v0);
      if (arity >= 2 && node !== undefined) node = (node as Level).get(v1);
      if (arity >= 3 && node !== undefined) node = (node as Level).get(v2);
      if (arity >= 4 && node !== undefined) node = (node as Level).get(v3);
      if (arity >= 5 && node !== undefined) node = (node as Level).get(v4);
      if (arity >= 6 && node !== undefined) node = (node as Level).get(v5);
      if (arity >= 7 && node !== undefined) node = (node as Level).get(v6);
      if (arity === 8 && node !== undefined) node = (node as Level).get(v7);
      if (node !== undefined) return node as H;
    }
    // eslint-disable-next-line prefer-rest-params -- the slow path may allocate
    return this.#lookupSlow(Array.prototype.slice.call(arguments) as unknown[]);
  }

  /**
   * True for the series that label sets past the cap share. A caller that keeps handles
   * across lookups must not keep this one: each uncached lookup that lands on it is counted.
   */
  isOverflow(handle: H): boolean {
    return handle === this.#overflow;
  }

  /** Visits every series in interning order with its sanitized label values. */
  forEachSeries(visit: (labelValues: readonly string[], series: H) => void): void {
    const handles = this.#handles;
    for (let slot = 0; slot < handles.length; slot++) visit(this.#labelValues[slot] as readonly string[], handles[slot] as H);
  }

  #lookupSlow(raw: unknown[]): H {
    const arity = this.#arity;
    if (raw.length !== arity) {
      this.hooks.misused(this.name, 'label_count');
      const fitted = raw.slice(0, arity);
      while (fitted.length < arity) fitted.push('');
      return this.#resolve(fitted);
    }
    let node: unknown = this.#root;
    for (let i = 0; i < arity && node !== undefined; i++) node = (node as Level).get(raw[i]);
    if (node !== undefined && arity > 0) return node as H;
    const handle = this.#resolve(raw);
    if (this.#rawCached < this.#rawCacheLimit) {
      this.#rawCached++;
      let level = this.#root;
      for (let i = 0; i < arity - 1; i++) {
        let next = level.get(raw[i]) as Level | undefined;
        if (next === undefined) {
          next = new Map();
          level.set(raw[i], next);
        }
        level = next;
      }
      level.set(raw[arity - 1], handle);
    }
    return handle;
  }

  /** The series for a raw label set: an existing one, a new one, or the overflow series. */
  #resolve(raw: readonly unknown[]): H {
    const sanitized = raw.map((value) => sanitizeLabelValue(value as string));
    // `|` is outside the label character set, so distinct label sets never join alike.
    const key = sanitized.join('|');
    const existing = this.#bySanitized.get(key);
    if (existing !== undefined) return existing;
    const ownSeries = this.#handles.length - (this.#overflow === undefined ? 0 : 1);
    if (ownSeries < this.maxSeries) {
      const handle = this.#intern(sanitized);
      this.#bySanitized.set(key, handle);
      return handle;
    }
    // OTel's cardinality limit does the same: one overflow series keeps the totals right
    // while the label detail is lost, and a counter says it happened.
    this.#overflow ??= this.#intern(sanitized.map(() => OVERFLOW_LABEL_VALUE));
    this.hooks.overflowed(this.name);
    return this.#overflow;
  }

  #intern(labelValues: readonly string[]): H {
    const slot = this.#handles.length;
    if (slot === this.#capacity) {
      // Doubling keeps the copies amortized; the +1 is the overflow series.
      this.#capacity = Math.min(Math.max(FIRST_CAPACITY, this.#capacity * 2), this.maxSeries + 1);
      this.grow(this.#capacity);
    }
    const handle = this.createHandle(slot);
    this.#handles.push(handle);
    this.#labelValues.push(Object.freeze([...labelValues]));
    return handle;
  }
}
