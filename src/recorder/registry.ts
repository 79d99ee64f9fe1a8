import { CounterFamily } from './counter.js';
import type { Counter } from './counter.js';
import { GaugeFamily } from './gauge.js';
import { HISTOGRAM_RESERVED_LABELS, HistogramFamily, checkBuckets } from './histogram.js';
import type { HistogramDef } from './histogram.js';
import { DEFAULT_MAX_SERIES, checkMetricDef } from './series-family.js';
import type { MetricDef } from './series-family.js';
import { checkKeyMapping } from './sketch-key.js';
import type { DropReason, RecorderHooks } from './values.js';

export type { MetricDef } from './series-family.js';

/** Every kind of family, tagged by `type`. */
export type Family = CounterFamily | GaugeFamily | HistogramFamily;

export interface RegistryOptions {
  /** Series cap of a metric that does not set `maxSeries` (default 2000). */
  readonly maxSeriesPerMetric?: number;
  /**
   * Hears every dropped value (`reason`: nan, infinite, negative, not_a_number) and every
   * misuse (`label_count`: a wrong number of label values). Warning, and warning once, is
   * the caller's choice; an exception thrown here is swallowed, the hot path never throws.
   */
  readonly onDrop?: (metric: string, reason: string) => void;
}

/**
 * Counts label sets sent to a metric's overflow series, one series per metric (at 0 from
 * registration). A label set is counted when its lookup first misses: once per distinct set
 * of raw values while the family's lookup cache has room (4 raw sets per allowed series),
 * on every lookup after that.
 */
export const LABEL_OVERFLOW_METRIC = 'flowmeter_label_overflow_total';
/** Counts dropped values per metric and reason. */
export const DROPPED_VALUES_METRIC = 'flowmeter_dropped_values_total';

// The built-in families have one series per metric (per reason): their size is set by the
// code that defines metrics, not by data, so the per-metric cap does not apply to them.
const BUILT_IN_MAX_SERIES = 100_000;

/**
 * The hot-path recorder: counters, gauges and histograms whose values live in typed arrays.
 * Definitions are checked here and throw on a mistake (STYLE.md, error tier 1); recording
 * through the handles never throws (tier 2).
 */
export class Registry {
  readonly #families: Family[] = [];
  readonly #names = new Set<string>();
  readonly #maxSeries: number;
  readonly #onDrop: ((metric: string, reason: string) => void) | undefined;
  readonly #hooks: RecorderHooks;
  readonly #overflow: CounterFamily;
  readonly #dropped: CounterFamily;
  #droppedValues = 0;

  constructor(options: RegistryOptions = {}) {
    checkKeyMapping();
    const maxSeries = options.maxSeriesPerMetric ?? DEFAULT_MAX_SERIES;
    if (!Number.isSafeInteger(maxSeries) || maxSeries < 1) {
      throw new Error(`Registry: maxSeriesPerMetric must be a positive integer, got ${String(options.maxSeriesPerMetric)}`);
    }
    this.#maxSeries = maxSeries;
    this.#onDrop = options.onDrop;
    this.#hooks = {
      dropped: (metric, reason) => this.#recordDrop(metric, reason),
      overflowed: (metric) => this.#overflow.labels(metric).inc(),
      misused: (metric, problem) => this.#tell(metric, problem),
    };
    this.#overflow = this.counter({
      name: LABEL_OVERFLOW_METRIC,
      help: 'Label sets sent to the overflow series because the metric reached its series cap.',
      labelNames: ['metric'],
      maxSeries: BUILT_IN_MAX_SERIES,
    });
    this.#dropped = this.counter({
      name: DROPPED_VALUES_METRIC,
      help: 'Recorded values dropped for being NaN, infinite, or negative where only non-negative values count.',
      labelNames: ['metric', 'reason'],
      maxSeries: BUILT_IN_MAX_SERIES,
    });
    this.#overflow.labels(LABEL_OVERFLOW_METRIC);
  }

  counter(def: MetricDef): CounterFamily {
    const maxSeries = this.#check(def, []);
    return this.#add(new CounterFamily(def, maxSeries, this.#hooks));
  }

  gauge(def: MetricDef): GaugeFamily {
    const maxSeries = this.#check(def, []);
    return this.#add(new GaugeFamily(def, maxSeries, this.#hooks));
  }

  histogram(def: HistogramDef): HistogramFamily {
    const maxSeries = this.#check(def, HISTOGRAM_RESERVED_LABELS);
    checkBuckets(def.name, def.buckets);
    if (def.sketch !== undefined && typeof def.sketch !== 'boolean') throw new Error(`${def.name}: sketch must be true or false`);
    return this.#add(new HistogramFamily(def, maxSeries, this.#hooks));
  }

  /** Every family in registration order, the two built-in counters first. */
  families(): readonly Family[] {
    return this.#families;
  }

  /** The family registered under `name`, if any. */
  family(name: string): Family | undefined {
    return this.#families.find((family) => family.name === name);
  }

  /** Values dropped so far (NaN, infinite, negative for counters and histograms), all metrics together. */
  droppedValues(): number {
    return this.#droppedValues;
  }

  #check(def: MetricDef, reserved: readonly string[]): number {
    if (def === null || typeof def !== 'object') throw new Error('a metric definition is an object: { name, help, labelNames }');
    const maxSeries = checkMetricDef(def, reserved, this.#maxSeries);
    if (this.#names.has(def.name)) throw new Error(`metric ${def.name} is already registered; define it once and share the family`);
    return maxSeries;
  }

  #add<F extends Family>(family: F): F {
    this.#names.add(family.name);
    this.#families.push(family);
    // Interned now, so an overflow later never interns (and the exposition shows a 0 from the start).
    (this.#overflow as CounterFamily | undefined)?.labels(family.name);
    return family;
  }

  #recordDrop(metric: string, reason: DropReason): void {
    this.#droppedValues++;
    const counter: Counter = this.#dropped.labels(metric, reason);
    counter.inc();
    this.#tell(metric, reason);
  }

  #tell(metric: string, reason: string): void {
    if (this.#onDrop === undefined) return;
    try {
      this.#onDrop(metric, reason);
    } catch {
      // A throwing callback must not break the program being measured (STYLE.md, error tier 2).
    }
  }
}
