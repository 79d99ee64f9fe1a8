import type { Attributes as OtelAttributes, Histogram } from '@opentelemetry/api';
import { ValueType } from '@opentelemetry/api';
import {
  AggregationTemporalityPreference,
  OTLPMetricExporter as OTLPJsonMetricExporter,
} from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as OTLPProtoMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import type { PushMetricExporter, ViewOptions } from '@opentelemetry/sdk-metrics';
import { AggregationType, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import type { FlowEvent, LlmCall, RunFinished, TokensRecorded, ToolCall } from '../model/index.js';
import { invalidNonNegative } from '../model/index.js';
import type { ErrorHandler } from '../sinks/report-error.js';
import { ignoreError } from '../sinks/report-error.js';
import type { Env, OtlpProtocol, OtlpSettingsInput, OtlpTemporality } from './otel-config.js';
import { resolveOtlpSettings } from './otel-config.js';
import { ReportingMetricExporter } from './otel-reporting-exporter.js';
import { OtelProviderSink } from './otel-sink.js';
import type { HistogramSpec } from './otel-semconv.js';
import { ATTR, boundedValue, ERROR_OTHER, HISTOGRAMS, OPERATION_CHAT, providerName } from './otel-semconv.js';

export type { OtlpProtocol, OtlpTemporality } from './otel-config.js';
export { OtelTraceExporter } from './otel-traces.js';
export type { OtelTraceExporterOptions } from './otel-traces.js';

export interface OtelExporterOptions extends OtlpSettingsInput {
  /**
   * Full OTLP/HTTP metrics URL. Default: OTEL_EXPORTER_OTLP_METRICS_ENDPOINT, else
   * OTEL_EXPORTER_OTLP_ENDPOINT + `/v1/metrics`, else http://localhost:4318/v1/metrics.
   */
  readonly endpoint?: string;
  /** Default: OTEL_EXPORTER_OTLP_METRICS_PROTOCOL, OTEL_EXPORTER_OTLP_PROTOCOL, else `http/protobuf`. */
  readonly protocol?: OtlpSettingsInput['protocol'];
  /** Merged over OTEL_EXPORTER_OTLP_HEADERS and OTEL_EXPORTER_OTLP_METRICS_HEADERS. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Default: OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE, else `cumulative`. */
  readonly temporality?: OtlpTemporality;
  /** Per-request timeout. Default: OTEL_EXPORTER_OTLP_METRICS_TIMEOUT / OTEL_EXPORTER_OTLP_TIMEOUT, else 10000. */
  readonly timeoutMillis?: number;
  /** How often metrics are pushed. Default 60000, the OTel SDK default. */
  readonly exportIntervalMillis?: number;
  /** `service.name` of the resource. Default: OTEL_SERVICE_NAME, else `flowmeter`. */
  readonly serviceName?: string;
  /** Where the OTEL_* variables are read. Default: process.env. */
  readonly env?: Env;
  /** Failed exports (collector down, 4xx/5xx). Default: ignore; the meter counts them. */
  readonly onError?: ErrorHandler;
}

const TEMPORALITY: Readonly<Record<OtlpTemporality, AggregationTemporalityPreference>> = {
  cumulative: AggregationTemporalityPreference.CUMULATIVE,
  delta: AggregationTemporalityPreference.DELTA,
  lowmemory: AggregationTemporalityPreference.LOWMEMORY,
};

type Instruments = { readonly [K in keyof typeof HISTOGRAMS]: Histogram };

/**
 * Pushes OTLP metrics that follow the OpenTelemetry GenAI semantic conventions:
 *
 *   llm_call      gen_ai.client.operation.duration, gen_ai.client.token.usage (input, output),
 *                 gen_ai.client.operation.time_to_first_chunk (streamed calls), flowmeter.client.operation.cost
 *   tokens        gen_ai.client.token.usage (tokens spent outside a call)
 *   tool_call     gen_ai.execute_tool.duration
 *   run_finished  gen_ai.workflow.duration, gen_ai.invoke_agent.duration, flowmeter.run.cost
 *
 * `write` only records into in-process histograms; a PeriodicExportingMetricReader sends
 * them off the audit path, so a slow collector never holds up a batch. Attributes are
 * low-cardinality by construction: names of providers, models, flows, agents, tools and
 * error classes; never run, task, user or session ids.
 */
export class OtelExporter extends OtelProviderSink {
  readonly name = 'otel';
  /** The resolved metrics URL and protocol (headers stay private: they often hold API keys). */
  readonly endpoint: string;
  readonly protocol: OtlpProtocol;
  readonly #provider: MeterProvider;
  private readonly instruments: Instruments;

  constructor(options: OtelExporterOptions = {}) {
    super(options.onError ?? ignoreError);
    const interval = options.exportIntervalMillis ?? 60_000;
    if (!Number.isFinite(interval) || interval <= 0) {
      throw new Error(`OtelExporter: exportIntervalMillis must be a positive number of milliseconds, got ${String(interval)}`);
    }
    const settings = resolveOtlpSettings(options, options.env ?? process.env);
    this.endpoint = settings.url;
    this.protocol = settings.protocol;

    const { url, headers, timeoutMillis, temporality } = settings;
    const config = { url, headers, timeoutMillis, temporalityPreference: TEMPORALITY[temporality] };
    const otlp: PushMetricExporter =
      settings.protocol === 'http/json' ? new OTLPJsonMetricExporter(config) : new OTLPProtoMetricExporter(config);

    this.#provider = new MeterProvider({
      resource: defaultResource().merge(
        resourceFromAttributes({ ...settings.resourceAttributes, 'service.name': settings.serviceName }),
      ),
      views: Object.values(HISTOGRAMS).map(bucketView),
      readers: [
        new PeriodicExportingMetricReader({
          exporter: new ReportingMetricExporter(otlp, this.onError),
          exportIntervalMillis: interval,
        }),
      ],
    });
    const meter = this.#provider.getMeter('flowmeter');
    const create = (spec: HistogramSpec): Histogram =>
      meter.createHistogram(spec.name, {
        unit: spec.unit,
        description: spec.description,
        valueType: spec.integer ? ValueType.INT : ValueType.DOUBLE,
      });
    this.instruments = {
      tokenUsage: create(HISTOGRAMS.tokenUsage),
      operationDuration: create(HISTOGRAMS.operationDuration),
      timeToFirstChunk: create(HISTOGRAMS.timeToFirstChunk),
      workflowDuration: create(HISTOGRAMS.workflowDuration),
      agentDuration: create(HISTOGRAMS.agentDuration),
      toolDuration: create(HISTOGRAMS.toolDuration),
      operationCost: create(HISTOGRAMS.operationCost),
      runCost: create(HISTOGRAMS.runCost),
    };
  }

  protected get provider(): MeterProvider {
    return this.#provider;
  }

  protected record(event: FlowEvent): void {
    switch (event.kind) {
      case 'llm_call':
        this.recordLlmCall(event);
        break;
      case 'tool_call':
        this.recordToolCall(event);
        break;
      case 'run_finished':
        this.recordRun(event);
        break;
      case 'tokens':
        this.recordTokens(event);
        break;
      // No GenAI metric describes these: a step has no semconv boundary, retries are
      // inside the call they repeat, and a started run has no duration yet.
      case 'run_started':
      case 'step_started':
      case 'step_finished':
      case 'retry':
        break;
      default: {
        const unreachable: never = event;
        return unreachable;
      }
    }
  }

  private recordLlmCall(e: LlmCall): void {
    const base: OtelAttributes = {
      [ATTR.operationName]: OPERATION_CHAT,
      [ATTR.providerName]: providerName(e.provider),
      [ATTR.requestModel]: e.model,
    };
    // error.type is conditionally required "if the operation ended in an error"; only the
    // duration metric carries it (token.usage and time_to_first_chunk do not list it).
    const duration = e.error_type === null ? base : { ...base, [ATTR.errorType]: boundedValue(e.error_type) };
    record(this.instruments.operationDuration, seconds(e.duration_ms), duration);
    record(this.instruments.tokenUsage, e.input_tokens, { ...base, [ATTR.tokenType]: 'input' });
    record(this.instruments.tokenUsage, e.output_tokens, { ...base, [ATTR.tokenType]: 'output' });
    // "SHOULD be reported for streaming calls and SHOULD NOT be reported otherwise."
    if (e.streaming) record(this.instruments.timeToFirstChunk, seconds(e.ttft_ms), base);
    record(this.instruments.operationCost, e.cost_usd, duration);
  }

  /**
   * Tokens spent outside an llmCall go into the same histogram, so token sums agree with
   * the RunEvent. The event names no provider or operation; those attributes are left
   * absent rather than guessed.
   */
  private recordTokens(e: TokensRecorded): void {
    const type = e.direction === 'in' ? 'input' : 'output';
    record(this.instruments.tokenUsage, e.count, { [ATTR.requestModel]: e.model, [ATTR.tokenType]: type });
  }

  private recordToolCall(e: ToolCall): void {
    const attributes: OtelAttributes = { [ATTR.toolName]: e.tool, [ATTR.agentName]: e.agent };
    // ToolCall.error is the error's message (zerg's schema), not a class: as a label it
    // would mint a series per message. `_OTHER` is semconv's fallback error.type.
    if (!e.success) attributes[ATTR.errorType] = ERROR_OTHER;
    record(this.instruments.toolDuration, seconds(e.duration_ms), attributes);
  }

  private recordRun(e: RunFinished): void {
    const run = e.event;
    // A run that did not end in `success` "ended in an error"; the outcome is a fixed,
    // low-cardinality set (enzu's eight), unlike free-form error class names.
    const error: OtelAttributes = run.outcome === 'success' ? {} : { [ATTR.errorType]: run.outcome };
    const workflow: OtelAttributes = { [ATTR.workflowName]: run.flow_id, ...error };
    // gen_ai.request.model is left off: semconv sets it only when an agent can use a single
    // model, and a flowmeter run may call several.
    const agent: OtelAttributes = { [ATTR.agentName]: run.agent, ...error };
    record(this.instruments.workflowDuration, run.elapsed_seconds, workflow);
    record(this.instruments.agentDuration, run.elapsed_seconds, agent);
    record(this.instruments.runCost, run.cost_usd, { ...workflow, [ATTR.agentName]: run.agent });
  }
}

/** Pins the semconv-advised explicit bucket boundaries for one instrument. */
function bucketView(spec: HistogramSpec): ViewOptions {
  return {
    instrumentName: spec.name,
    aggregation: { type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM, options: { boundaries: [...spec.boundaries] } },
  };
}

/** Semconv durations are in seconds; events carry milliseconds. */
function seconds(ms: number | null): number | null {
  return ms === null ? null : ms / 1000;
}

/** A value that was not measured (null) or is unusable (NaN, negative) is not recorded: no made-up zeros. */
function record(histogram: Histogram, value: number | null, attributes: OtelAttributes): void {
  if (value === null || invalidNonNegative(value) !== null) return;
  histogram.record(value, attributes);
}
