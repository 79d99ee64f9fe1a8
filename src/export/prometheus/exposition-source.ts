/**
 * What the exposition writer reads: the recorder's Registry is one (its families match these
 * shapes), and so is any other store of series that can list its families. Label values are
 * taken as they come and escaped on the way out; the Registry has already sanitized them.
 */
export interface ExpositionSource {
  families(): readonly FamilySource[];
}

export type FamilySource = ScalarFamilySource | HistogramFamilySource;

interface FamilyMeta {
  readonly name: string;
  readonly help: string;
  /** Written as OpenMetrics `# UNIT` when the family name ends with `_<unit>`. */
  readonly unit: string | undefined;
  readonly labelNames: readonly string[];
  /** Series only ever get appended: the writer caches per series by position. */
  readonly seriesCount: number;
}

export interface ScalarFamilySource extends FamilyMeta {
  readonly type: 'counter' | 'gauge';
  forEachSeries(visit: (labelValues: readonly string[], series: ScalarSeriesSource) => void): void;
}

export interface HistogramFamilySource extends FamilyMeta {
  readonly type: 'histogram';
  /** Upper bounds without +Inf. */
  readonly buckets: readonly number[];
  forEachSeries(visit: (labelValues: readonly string[], series: HistogramSeriesSource) => void): void;
}

export interface ScalarSeriesSource {
  readonly value: number;
}

export interface HistogramSeriesSource {
  readonly sum: number;
  /** One entry per bound and a last one for +Inf, each counting values <= its bound. */
  cumulativeBucketCounts(): number[];
}
