import { renderRegistry } from '../export/prometheus/index.js';
import type { ExpositionFormat } from '../export/prometheus/index.js';
import { DROPPED_VALUES_METRIC, LABEL_OVERFLOW_METRIC, Registry } from '../recorder/index.js';
import type { Counter, Histogram } from '../recorder/index.js';

/** Seconds; the proxy's own time is sub-millisecond when all is well, so the buckets start at 50 µs. */
export const OVERHEAD_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1];

/** Why metering (not traffic) failed: each is counted, the response flows on. */
export type MeteringFailure = 'malformed_body' | 'unread_body' | 'internal_error';

/**
 * The proxy's own metrics, on the recorder's typed arrays (the hot path of Union Square's
 * design): each request costs a few array increments through handles interned once.
 */
export class ProxyMetrics {
  readonly registry = new Registry();
  private readonly overhead;
  private readonly requests;
  private readonly failures;
  private readonly budget;
  private readonly upstreamErrors;
  private readonly disconnects;
  private readonly overheadCache = new Map<string, Histogram>();
  private readonly requestCache = new Map<string, Counter>();

  constructor() {
    const r = this.registry;
    this.overhead = r.histogram({
      name: 'flowmeter_proxy_overhead_seconds',
      help: "The proxy's own time per request, upstream time excluded: reading and rewriting the request, handing the answer on, and reading every chunk of it.",
      labelNames: ['upstream', 'endpoint'],
      buckets: OVERHEAD_BUCKETS,
    });
    this.requests = r.counter({ name: 'flowmeter_proxy_requests_total', help: 'Requests through the proxy by upstream, endpoint (`other` = passed through unmetered) and status code.', labelNames: ['upstream', 'endpoint', 'code'] });
    this.failures = r.counter({ name: 'flowmeter_proxy_metering_failures_total', help: 'Responses that flowed on but could not be fully metered, by reason.', labelNames: ['reason'] });
    this.budget = r.counter({ name: 'flowmeter_proxy_budget_rejections_total', help: 'Calls answered 429 because a budget was spent, by scope.', labelNames: ['scope'] });
    this.upstreamErrors = r.counter({ name: 'flowmeter_proxy_upstream_errors_total', help: 'Requests that got no answer from the upstream (answered 502), by upstream.', labelNames: ['upstream'] });
    this.disconnects = r.counter({ name: 'flowmeter_proxy_client_disconnects_total', help: 'Clients that went away before their answer ended; the upstream request was aborted.', labelNames: ['upstream'] });
    for (const reason of ['malformed_body', 'unread_body', 'internal_error'] as const) this.failures.labels(reason);
  }

  observeOverhead(upstream: string, endpoint: string, seconds: number): void {
    const key = `${upstream}\u0000${endpoint}`;
    let h = this.overheadCache.get(key);
    if (h === undefined) {
      h = this.overhead.labels(upstream, endpoint);
      this.overheadCache.set(key, h);
    }
    h.observe(seconds);
  }

  request(upstream: string, endpoint: string, code: number): void {
    const key = `${upstream}\u0000${endpoint}\u0000${code}`;
    let c = this.requestCache.get(key);
    if (c === undefined) {
      c = this.requests.labels(upstream, endpoint, String(code));
      this.requestCache.set(key, c);
    }
    c.inc();
  }

  meteringFailure(reason: MeteringFailure): void {
    this.failures.labels(reason).inc();
  }

  budgetRejection(scope: string): void {
    this.budget.labels(scope).inc();
  }

  upstreamError(upstream: string): void {
    this.upstreamErrors.labels(upstream).inc();
  }

  clientDisconnect(upstream: string): void {
    this.disconnects.labels(upstream).inc();
  }

  /** The exposition of the proxy's families only: the two built-in families are the meter's to show. */
  render(format: ExpositionFormat): string {
    const own = this.registry.families().filter((f) => f.name !== LABEL_OVERFLOW_METRIC && f.name !== DROPPED_VALUES_METRIC);
    return renderRegistry({ families: () => own }, format);
  }
}
