import type { AggregationOption, InstrumentType, PushMetricExporter, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { AggregationTemporality, AggregationType } from '@opentelemetry/sdk-metrics';
import type { ErrorHandler } from '../sinks/report-error.js';
import { reportError } from '../sinks/report-error.js';

type ResultCallback = Parameters<PushMetricExporter['export']>[1];
type ExportResult = Parameters<ResultCallback>[0];

/** `ExportResultCode` of @opentelemetry/core, which the SDK packages depend on but do not re-export. */
const EXPORT_SUCCESS: ExportResult['code'] = 0;
const EXPORT_FAILED: ExportResult['code'] = 1;

/** What an OTel exporter's callback receives (the same shape for metrics and spans). */
export interface ExportOutcome {
  readonly code: ExportResult['code'];
  readonly error?: Error;
}

/**
 * Runs one export of an OTel exporter and reports a failure (a failed result, or a throw) to
 * `onError` before handing the result on, once. Shared by the metrics and the span exporters.
 */
export function exportReporting<R extends ExportOutcome>(run: (done: (result: R) => void) => void, resultCallback: (result: R) => void, onError: ErrorHandler, signal: 'metrics' | 'traces'): void {
  let settled = false;
  const done = (result: R): void => {
    if (settled) return;
    settled = true;
    if (result.code !== EXPORT_SUCCESS) reportError(onError, result.error ?? new Error(`flowmeter otel: OTLP ${signal} export failed`));
    resultCallback(result);
  };
  try {
    run(done);
  } catch (err) {
    done({ code: EXPORT_FAILED, error: err instanceof Error ? err : new Error(String(err)) } as R);
  }
}

/**
 * Wraps an OTLP exporter so a failed export reaches the sink's `onError`. The periodic
 * reader only hands failures to OTel's process-wide `globalErrorHandler`; replacing that
 * would take over every other OTel user in the process, so we listen at the exporter.
 */
export class ReportingMetricExporter implements PushMetricExporter {
  constructor(
    private readonly inner: PushMetricExporter,
    private readonly onError: ErrorHandler,
  ) {}

  export(metrics: ResourceMetrics, resultCallback: ResultCallback): void {
    exportReporting((done) => this.inner.export(metrics, done), resultCallback, this.onError, 'metrics');
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  selectAggregationTemporality(instrumentType: InstrumentType): AggregationTemporality {
    // The OTLP exporters always implement both selectors; the fallbacks are the SDK defaults.
    return this.inner.selectAggregationTemporality?.(instrumentType) ?? AggregationTemporality.CUMULATIVE;
  }

  selectAggregation(instrumentType: InstrumentType): AggregationOption {
    return this.inner.selectAggregation?.(instrumentType) ?? { type: AggregationType.DEFAULT };
  }
}
