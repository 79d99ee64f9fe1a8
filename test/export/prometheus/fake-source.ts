import type { ExpositionSource, FamilySource } from '../../../src/export/prometheus/index.js';

/**
 * An exposition source with raw label values. The Registry replaces quotes, backslashes and
 * line feeds in label values before they reach the writer, so this is how tests show that
 * the writer escapes them anyway.
 */
export function rawSource(values: readonly string[], help = 'Raw label values.'): ExpositionSource {
  const counter: FamilySource = {
    type: 'counter',
    name: 'raw_values_total',
    help,
    unit: undefined,
    labelNames: ['value'],
    seriesCount: values.length,
    forEachSeries: (visit) => values.forEach((value, i) => visit([value], { value: i + 1 })),
  };
  const histogram: FamilySource = {
    type: 'histogram',
    name: 'raw_duration_seconds',
    help,
    unit: 'seconds',
    labelNames: ['value'],
    seriesCount: values.length,
    buckets: [0.5, 1],
    forEachSeries: (visit) => values.forEach((value) => visit([value], { sum: 1.5, cumulativeBucketCounts: () => [1, 1, 2] })),
  };
  return { families: () => [counter, histogram] };
}

/** Label values that need escaping in both formats. */
export const NASTY_VALUES = ['say "hi"', 'C:\\temp\\', 'two\nlines', '\\"\n', 'plain'];
