import { PrometheusView } from '../export/prometheus/index.js';
import type { ExpositionFormat, ProfileName } from '../export/prometheus/index.js';
import { pushMetrics } from '../export/pushgateway.js';
import type { FlowEvent } from '../model/index.js';
import { resolveServeSettings, startMetricsServer } from '../server/index.js';
import type { MetricsServer } from '../server/index.js';
import type { Diagnostics } from './diagnostics.js';

export interface ServeOptions {
  /** Default 9108; 0 picks a free port (read it from the returned `url`). */
  readonly port?: number;
  /** Default 127.0.0.1: metrics stay on this host unless you say otherwise. */
  readonly addr?: string;
  /** Require `Authorization: Bearer <token>` on every request. */
  readonly token?: string;
}

export interface PushSettings {
  readonly url: string;
  readonly job?: string;
  readonly flowId?: string;
  readonly token?: string;
}

/**
 * The meter's Prometheus side: the view every event is recorded into on the hot path,
 * the in-process `/metrics` endpoint, and the Pushgateway push for batch jobs.
 */
export class Exposition {
  readonly view: PrometheusView;
  /**
   * The Pushgateway stamps a group's labels over the pushed series' own, so a push grouped
   * by `flow_id=a` must carry only flow a's series: this view records that flow alone.
   */
  private readonly flowView: PrometheusView | undefined;
  private server: Promise<MetricsServer> | undefined;

  constructor(
    profiles: readonly ProfileName[],
    maxSeriesPerMetric: number | undefined,
    private readonly diagnostics: Diagnostics,
    private readonly pushSettings: PushSettings | undefined,
    private readonly env: Readonly<Record<string, string | undefined>>,
  ) {
    this.view = new PrometheusView({ profiles, maxSeriesPerMetric, diagnostics: () => diagnostics.snapshot() });
    if (pushSettings?.flowId !== undefined) this.flowView = new PrometheusView({ profiles, maxSeriesPerMetric });
  }

  record(event: FlowEvent): void {
    this.view.record(event);
    if (this.flowView !== undefined && flowOf(event) === this.pushSettings?.flowId) this.flowView.record(event);
  }

  render(format: ExpositionFormat): string {
    return this.view.render(format);
  }

  /** Starts `/metrics` and `/healthz` in this process; a second call returns the same server. */
  serve(options: ServeOptions = {}): Promise<MetricsServer> {
    if (this.server !== undefined) return this.server;
    let settings;
    try {
      // Same precedence as `flowmeter serve`: options, FLOWMETER_METRICS_*, ARX's AR_METRICS_*, defaults.
      settings = resolveServeSettings(options, this.env);
      for (const warning of settings.warnings) process.emitWarning(`flowmeter: ${warning}`, { code: 'FLOWMETER_NO_TOKEN' });
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    this.server = startMetricsServer({
      render: (format) => this.view.renderAsync(format),
      port: settings.port,
      addr: settings.addr,
      token: settings.token,
      // An agent that serves its own metrics must still exit when its work is done.
      unref: true,
      health: () => ({ dropped_events: this.diagnostics.snapshot().dropped_events }),
    });
    // A failed start (port in use) may be retried with other options.
    this.server.catch(() => {
      this.server = undefined;
    });
    return this.server;
  }

  /** Pushes the current metrics to the configured Pushgateway, or to `settings`. */
  async push(settings: PushSettings | undefined = this.pushSettings): Promise<void> {
    if (settings === undefined) throw new Error('meter.push(): no Pushgateway configured; pass { url } or set the `pushgateway` option of createMeter');
    const { flowId } = settings;
    let view = this.view;
    if (flowId !== undefined) {
      if (flowId !== this.pushSettings?.flowId || this.flowView === undefined) {
        throw new Error(`meter.push(): grouping by flow "${flowId}" needs createMeter({ pushgateway: { flowId: "${flowId}", … } }) so that flow's series are kept apart`);
      }
      view = this.flowView;
    }
    await pushMetrics({
      url: settings.url,
      job: settings.job ?? 'flowmeter',
      ...(flowId !== undefined && { grouping: { flow_id: flowId } }),
      body: view.render('text'),
      token: settings.token,
    });
  }

  /** Pushes a configured batch's metrics one last time and stops the server. */
  async close(): Promise<void> {
    if (this.pushSettings !== undefined) {
      try {
        await this.push();
      } catch (err) {
        this.diagnostics.sinkError('pushgateway', err);
      }
    }
    const server = this.server;
    this.server = undefined;
    if (server !== undefined) await server.then((s) => s.close(), () => undefined);
  }
}

function flowOf(event: FlowEvent): string {
  return event.kind === 'run_started' || event.kind === 'run_finished' ? event.run.flow_id : event.flow_id;
}
