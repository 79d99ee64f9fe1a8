// `flowmeter/proxy`: the metering proxy as a library.
export { MeteringProxy, createProxy, DEFAULT_PROXY_PORT, DEFAULT_MAX_BODY_BYTES, DEFAULT_RUN_IDLE_MS, OVERHEAD_HEADER } from './proxy.js';
export type { ProxyOptions, ProxyServer } from './proxy.js';
export { ProxyConfigError, DEFAULT_UPSTREAMS, parseUpstream } from './upstreams.js';
export type { Upstream, Dialect } from './upstreams.js';
export { parseBudget } from './budgets.js';
export type { BudgetRule, BudgetScope, BudgetMetric } from './budgets.js';
export { ATTRIBUTION_HEADERS } from './attribution.js';
export { OVERHEAD_BUCKETS } from './proxy-metrics.js';
