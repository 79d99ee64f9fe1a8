export { QuantileSketch, SKETCH_RELATIVE_ACCURACY } from './quantile-sketch.js';
export { RunStats, RUN_METRICS, RUN_STATS_FORMAT, outcomeKey } from './run-stats.js';
export type {
  RunMetric,
  OutcomeKey,
  Percentiles,
  MetricDistribution,
  RunSnapshot,
  RunStatsJSON,
} from './run-stats.js';
export { fScore } from './fscore.js';
export type { ClassificationPair, FScore } from './fscore.js';
export { formatSnapshotTable } from './snapshot-table.js';
export { parseRule, measure, holds, RuleError, STATS, RUN_FIELDS, CALL_FIELDS, MEASURES, OPERATORS } from './threshold.js';
export type { Rule, RuleSubject, RuleTarget, Stat, Field, Measure, Operator } from './threshold.js';
