// `flowmeter/prometheus`: the Prometheus view of flowmeter's events and its exposition.
export { PrometheusView, parseProfiles, PROFILE_NAMES } from './view.js';
export type { ProfileName, PrometheusViewOptions } from './view.js';
export {
  negotiate,
  renderRegistry,
  renderRegistryAsync,
  contentType,
  TEXT_CONTENT_TYPE,
  OPENMETRICS_CONTENT_TYPE,
} from './exposition.js';
export type { ExpositionFormat, RenderAsyncOptions } from './exposition.js';
export type {
  ExpositionSource,
  FamilySource,
  ScalarFamilySource,
  HistogramFamilySource,
  ScalarSeriesSource,
  HistogramSeriesSource,
} from './exposition-source.js';
export { DefaultProfile, LATENCY_BUCKETS, TTFT_BUCKETS, TOOL_BUCKETS, RUN_DURATION_BUCKETS, RUN_COST_BUCKETS, RUN_TOKEN_BUCKETS } from './profiles/default.js';
export { ArxProfile, ARX_STEP_LATENCY_MS_BUCKETS } from './profiles/arx.js';
export { EnzuProfile, ENZU_COST_BUCKETS, ENZU_ELAPSED_BUCKETS, ENZU_TOKEN_BUCKETS, ENZU_RETRY_BUCKETS } from './profiles/enzu.js';
export type { Profile, ExportDiagnostics } from './profiles/profile.js';
