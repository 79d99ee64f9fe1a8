import { SeriesFamily } from './series-family.js';
import type { MetricDef } from './series-family.js';
import { finiteDropReason } from './values.js';
import type { RecorderHooks } from './values.js';

/** What exporters read from one gauge series. */
export interface GaugeSeries {
  readonly value: number;
}

/** The family's array; handles read it through this object because growing replaces it. */
class GaugeArrays {
  values = new Float64Array(0);
  constructor(readonly reject: (value: unknown) => void) {}
}

/** One gauge series: any finite value, up or down. NaN and infinities are dropped and counted. */
export class Gauge implements GaugeSeries {
  readonly #arrays: GaugeArrays;
  readonly #slot: number;

  /** @internal Made by GaugeFamily.labels. */
  constructor(arrays: GaugeArrays, slot: number) {
    this.#arrays = arrays;
    this.#slot = slot;
  }

  set(value: number): void {
    const a = this.#arrays;
    // `value - value` is 0 for finite numbers and NaN for NaN and ±Infinity; typeof keeps out
    // strings from JavaScript callers ('1' + 1 is '11').
    if (typeof value === 'number' && value - value === 0) a.values[this.#slot] = value;
    else a.reject(value);
  }

  inc(by = 1): void {
    const a = this.#arrays;
    if (typeof by === 'number' && by - by === 0) a.values[this.#slot]! += by;
    else a.reject(by);
  }

  dec(by = 1): void {
    const a = this.#arrays;
    if (typeof by === 'number' && by - by === 0) a.values[this.#slot]! -= by;
    else a.reject(by);
  }

  get value(): number {
    return this.#arrays.values[this.#slot]!;
  }
}

/** A gauge metric: one Float64 per series. */
export class GaugeFamily extends SeriesFamily<Gauge> {
  readonly type = 'gauge' as const;
  readonly #arrays: GaugeArrays;

  /** @internal Made by Registry.gauge, which checks the definition first. */
  constructor(def: MetricDef, maxSeries: number, hooks: RecorderHooks) {
    super(def, maxSeries, hooks);
    this.#arrays = new GaugeArrays((value) => hooks.dropped(def.name, finiteDropReason(value)));
    this.init();
  }

  protected grow(capacity: number): void {
    const grown = new Float64Array(capacity);
    grown.set(this.#arrays.values);
    this.#arrays.values = grown;
  }

  protected createHandle(slot: number): Gauge {
    return new Gauge(this.#arrays, slot);
  }
}
