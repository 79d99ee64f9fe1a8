// `flowmeter/server`: the metrics endpoint, and what feeds it from a runs folder.
export { startMetricsServer, MetricsServerError, DEFAULT_METRICS_PORT, DEFAULT_METRICS_ADDR } from './metrics-server.js';
export type { MetricsServer, MetricsServerOptions } from './metrics-server.js';
export { RunsTailer } from './runs-tailer.js';
export type { RunsTailerOptions, StaleRun, TailerStats } from './runs-tailer.js';
export { resolveServeSettings, ServeConfigError } from './serve-settings.js';
export type { Env, ServeSettings, ResolvedServeSettings } from './serve-settings.js';
export { parseFlowEvent } from './parse-event.js';
export { startCollector } from './collector.js';
export type { Collector, CollectorOptions } from './collector.js';
export { LiveMetrics, LIVE_WINDOW_SECONDS } from './live.js';
export type { LiveFigures, MetricsUpdate, RunFinishedMessage } from './live.js';
export { parseNdjson, MAX_BODY_BYTES, MAX_LINE_BYTES } from './ingest.js';
export { timeseries, SERIES_METRICS, SERIES_BY, STEPS } from './timeseries.js';
export type { SeriesAnswer, SeriesQuery, Series, SeriesMetric, SeriesBy } from './timeseries.js';
