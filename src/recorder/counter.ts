import { SeriesFamily } from './series-family.js';
import type { MetricDef } from './series-family.js';
import { nonNegativeDropReason } from './values.js';
import type { RecorderHooks } from './values.js';

/** What exporters read from one counter series. */
export interface CounterSeries {
  readonly value: number;
}

/** The family's array; handles read it through this object because growing replaces it. */
class CounterArrays {
  values = new Float64Array(0);
  constructor(readonly reject: (value: unknown) => void) {}
}

/** One counter series. `inc` is the hot path: no allocation, no string, no throw. */
export class Counter implements CounterSeries {
  readonly #arrays: CounterArrays;
  readonly #slot: number;

  /** @internal Made by CounterFamily.labels. */
  constructor(arrays: CounterArrays, slot: number) {
    this.#arrays = arrays;
    this.#slot = slot;
  }

  /**
   * Adds `by` (default 1). Counters only go up: a negative, NaN or infinite increment is
   * dropped and counted, the way OTel's `Counter.add` ignores a negative value.
   */
  inc(by = 1): void {
    const a = this.#arrays;
    // typeof: a string from a JavaScript caller would otherwise be concatenated ('1' + 1 is '11').
    if (typeof by === 'number' && by >= 0 && by < Infinity) a.values[this.#slot]! += by;
    else a.reject(by);
  }

  get value(): number {
    return this.#arrays.values[this.#slot]!;
  }
}

/** A counter metric: one Float64 per series. */
export class CounterFamily extends SeriesFamily<Counter> {
  readonly type = 'counter' as const;
  readonly #arrays: CounterArrays;

  /** @internal Made by Registry.counter, which checks the definition first. */
  constructor(def: MetricDef, maxSeries: number, hooks: RecorderHooks) {
    super(def, maxSeries, hooks);
    this.#arrays = new CounterArrays((value) => hooks.dropped(def.name, nonNegativeDropReason(value)));
    this.init();
  }

  protected grow(capacity: number): void {
    const grown = new Float64Array(capacity);
    grown.set(this.#arrays.values);
    this.#arrays.values = grown;
  }

  protected createHandle(slot: number): Counter {
    return new Counter(this.#arrays, slot);
  }
}
