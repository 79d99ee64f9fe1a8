import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, trace } from '@opentelemetry/api';
import type { Attributes as OtelAttributes, Context, Span, Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter as OTLPJsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OTLPProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, RandomIdGenerator } from '@opentelemetry/sdk-trace-base';
import type { IdGenerator, ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { FlowEvent, LlmCall, RunFinished, RunMeta, StepFinished, StepStarted, ToolCall } from '../model/index.js';
import type { ErrorHandler } from '../sinks/report-error.js';
import { ignoreError } from '../sinks/report-error.js';
import type { Env, OtlpProtocol, OtlpSettingsInput } from './otel-config.js';
import { resolveOtlpSettings } from './otel-config.js';
import { exportReporting } from './otel-reporting-exporter.js';
import { OtelProviderSink } from './otel-sink.js';
import { ATTR, boundedValue, ERROR_OTHER, providerName } from './otel-semconv.js';

export interface OtelTraceExporterOptions extends Omit<OtlpSettingsInput, 'temporality'> {
  /**
   * Full OTLP/HTTP traces URL. Default: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, else
   * OTEL_EXPORTER_OTLP_ENDPOINT + `/v1/traces`, else http://localhost:4318/v1/traces.
   */
  readonly endpoint?: string;
  /** `service.name` of the resource. Default: OTEL_SERVICE_NAME, else `flowmeter`. */
  readonly serviceName?: string;
  /**
   * Also set `gen_ai.usage.cost` (USD) on LLM call and run spans. The attribute is a draft
   * of the GenAI conventions, not yet in a release: on by default, off to keep to released names.
   */
  readonly experimentalCost?: boolean;
  /** Where the OTEL_* variables are read. Default: process.env. */
  readonly env?: Env;
  /** Failed exports (collector down, 4xx/5xx). Default: ignore; the meter counts them. */
  readonly onError?: ErrorHandler;
  /** Send spans here instead of OTLP (e.g. an app's own exporter). */
  readonly exporter?: SpanExporter;
  /** Runs kept open at once (runs that never end); the oldest is ended past it. Default 10,000. */
  readonly maxOpenRuns?: number;
}

/** Span names and operations of the GenAI conventions. */
const OP = {
  workflow: 'invoke_workflow',
  agent: 'invoke_agent',
  chat: 'chat',
  completion: 'text_completion',
  embeddings: 'embeddings',
  tool: 'execute_tool',
} as const;

const USAGE = {
  input: 'gen_ai.usage.input_tokens',
  output: 'gen_ai.usage.output_tokens',
  cacheRead: 'gen_ai.usage.cache_read.input_tokens',
  cost: 'gen_ai.usage.cost',
} as const;

/** The default agent name a run gets when none was given: such a run is a workflow, not an agent. */
const DEFAULT_AGENT = 'default';

/** A phase that names what the call was: embeddings and plain completions; every other call is a chat. */
function operationOf(phase: string): string {
  const p = phase.toLowerCase();
  if (p === 'embeddings' || p === 'embedding') return OP.embeddings;
  if (p === 'completion' || p === 'text_completion') return OP.completion;
  return OP.chat;
}

/**
 * Hands out the trace id of the run being started when it is a root, so a flowmeter trace
 * id and the OpenTelemetry trace id are one and the same; random otherwise.
 */
class RunTraceIds implements IdGenerator {
  next: string | undefined;
  private readonly random = new RandomIdGenerator();

  generateTraceId(): string {
    const id = this.next ?? this.random.generateTraceId();
    this.next = undefined;
    return id;
  }

  generateSpanId(): string {
    return this.random.generateSpanId();
  }
}

interface OpenRun {
  readonly span: Span;
  readonly context: Context;
  readonly steps: Map<string, { readonly span: Span; readonly context: Context }>;
}

/**
 * Emits the meter's runs and calls as OpenTelemetry spans that follow the GenAI semantic
 * conventions, through the OpenTelemetry trace SDK and its OTLP exporter:
 *
 *   run        `invoke_agent {agent}` (a run with an agent) or `invoke_workflow {flow}`
 *   step       `step {step_id}`, inside its run
 *   llm_call   `chat {model}` (or `embeddings`, `text_completion` by phase), inside its step or run
 *   tool_call  `execute_tool {tool}`
 *
 * A run's span id is its own; its trace id is the run tree's `trace_id`, and a child run's
 * span is a child of its parent run's. A run opened inside an active OpenTelemetry span
 * joins that span's trace as its child. Spans carry times measured by the meter (starts
 * from the events, ends from monotonic durations) and are exported in batches off the
 * audit path. The provider is this exporter's own: the app's global tracer is untouched.
 */
export class OtelTraceExporter extends OtelProviderSink {
  readonly name = 'otel-traces';
  /** The resolved traces URL and protocol (headers stay private: they often hold API keys). */
  readonly endpoint: string;
  readonly protocol: OtlpProtocol;
  readonly #provider: BasicTracerProvider;
  private readonly tracer: Tracer;
  private readonly ids = new RunTraceIds();
  private readonly cost: boolean;
  private readonly maxOpenRuns: number;
  private readonly runs = new Map<string, OpenRun>();

  constructor(options: OtelTraceExporterOptions = {}) {
    super(options.onError ?? ignoreError);
    const settings = resolveOtlpSettings(options, options.env ?? process.env, 'traces');
    this.endpoint = settings.url;
    this.protocol = settings.protocol;
    this.cost = options.experimentalCost ?? true;
    this.maxOpenRuns = options.maxOpenRuns ?? 10_000;
    const { url, headers, timeoutMillis } = settings;
    const otlp: SpanExporter =
      options.exporter ?? (settings.protocol === 'http/json' ? new OTLPJsonTraceExporter({ url, headers, timeoutMillis }) : new OTLPProtoTraceExporter({ url, headers, timeoutMillis }));
    this.#provider = new BasicTracerProvider({
      resource: defaultResource().merge(resourceFromAttributes({ ...settings.resourceAttributes, 'service.name': settings.serviceName })),
      idGenerator: this.ids,
      spanProcessors: [new BatchSpanProcessor(new ReportingSpanExporter(otlp, this.onError))],
    });
    this.tracer = this.#provider.getTracer('flowmeter');
  }

  protected get provider(): BasicTracerProvider {
    return this.#provider;
  }

  /** Runs still open end now, marked incomplete, so their spans are exported. */
  protected override beforeShutdown(): void {
    for (const runId of [...this.runs.keys()]) this.abandon(runId);
  }

  protected record(event: FlowEvent): void {
    switch (event.kind) {
      case 'run_started':
        this.startRun(event.run, Date.parse(event.ts));
        break;
      case 'run_finished':
        this.finishRun(event);
        break;
      case 'step_started':
        this.startStep(event);
        break;
      case 'step_finished':
        this.finishStep(event);
        break;
      case 'llm_call':
        this.llmCall(event);
        break;
      case 'tool_call':
        this.toolCall(event);
        break;
      // Tokens outside a call and retries are inside the run's totals and the calls they repeat.
      case 'tokens':
      case 'retry':
        break;
      default: {
        const unreachable: never = event;
        return unreachable;
      }
    }
  }

  private startRun(meta: RunMeta, startMs: number): void {
    if (this.runs.has(meta.run_id)) return;
    if (this.runs.size >= this.maxOpenRuns) {
      const oldest = this.runs.keys().next().value;
      if (oldest !== undefined) this.abandon(oldest);
    }
    const parent = this.parentContext(meta);
    const isAgent = meta.agent !== DEFAULT_AGENT;
    const attributes: OtelAttributes = {
      [ATTR.operationName]: isAgent ? OP.agent : OP.workflow,
      [ATTR.workflowName]: meta.flow_id,
      'flowmeter.run_id': meta.run_id,
      'flowmeter.flow_id': meta.flow_id,
      'flowmeter.exec_mode': meta.exec_mode,
    };
    if (isAgent) attributes[ATTR.agentName] = meta.agent;
    if (meta.session_id !== undefined) attributes['gen_ai.conversation.id'] = meta.session_id;
    if (meta.parent_run_id !== undefined) attributes['flowmeter.parent_run_id'] = meta.parent_run_id;
    if (meta.app_id !== undefined) attributes['flowmeter.app_id'] = meta.app_id;
    if (meta.task_id !== null) attributes['flowmeter.task_id'] = meta.task_id;
    const name = isAgent ? `${OP.agent} ${meta.agent}` : `${OP.workflow} ${meta.flow_id}`;
    // A root's trace id is the run tree's: handed to the SDK through the id generator.
    this.ids.next = trace.getSpanContext(parent) === undefined ? meta.trace_id : undefined;
    const span = this.tracer.startSpan(name, { kind: SpanKind.INTERNAL, startTime: startMs, attributes }, parent);
    this.ids.next = undefined;
    this.runs.set(meta.run_id, { span, context: trace.setSpan(ROOT_CONTEXT, span), steps: new Map() });
  }

  /** The parent run's span when it is open here; else the OpenTelemetry span the run was opened in; else none. */
  private parentContext(meta: RunMeta): Context {
    const parentRun = meta.parent_run_id === undefined ? undefined : this.runs.get(meta.parent_run_id);
    if (parentRun !== undefined) return parentRun.context;
    if (meta.trace_id !== undefined && meta.otel_parent_span_id !== undefined) {
      return trace.setSpanContext(ROOT_CONTEXT, { traceId: meta.trace_id, spanId: meta.otel_parent_span_id, traceFlags: TraceFlags.SAMPLED, isRemote: false });
    }
    return ROOT_CONTEXT;
  }

  private finishRun(e: RunFinished): void {
    if (!this.runs.has(e.run.run_id)) this.startRun(e.run, Date.parse(e.event.started_at));
    const open = this.runs.get(e.run.run_id)!;
    this.runs.delete(e.run.run_id);
    const run = e.event;
    const attributes: OtelAttributes = { 'flowmeter.outcome': run.outcome, 'flowmeter.llm_calls': run.llm_calls, 'flowmeter.tool_calls': run.tool_calls, 'flowmeter.retries': run.retries };
    if (run.input_tokens !== null) attributes[USAGE.input] = run.input_tokens;
    if (run.output_tokens !== null) attributes[USAGE.output] = run.output_tokens;
    if (run.model !== null) attributes[ATTR.requestModel] = run.model;
    if (run.provider !== null) attributes[ATTR.providerName] = providerName(run.provider);
    if (this.cost && run.cost_usd !== null) attributes[USAGE.cost] = run.cost_usd;
    if (run.tree_cost_usd !== undefined && run.tree_cost_usd !== null && (run.child_runs ?? 0) > 0) attributes['flowmeter.tree_cost_usd'] = run.tree_cost_usd;
    if (run.outcome !== 'success') {
      attributes[ATTR.errorType] = boundedValue(run.error_type ?? run.outcome);
      open.span.setStatus({ code: SpanStatusCode.ERROR, message: run.outcome });
    }
    open.span.setAttributes(attributes);
    for (const step of open.steps.values()) step.span.end();
    open.span.end(Date.parse(run.started_at) + run.elapsed_seconds * 1000);
  }

  private startStep(e: StepStarted): void {
    const run = this.runs.get(e.run_id);
    if (run === undefined) return;
    const span = this.tracer.startSpan(`step ${e.step_id}`, { startTime: Date.parse(e.ts), attributes: { 'flowmeter.step_id': e.step_id, ...(e.agent === DEFAULT_AGENT ? {} : { [ATTR.agentName]: e.agent }) } }, run.context);
    run.steps.set(e.step_id, { span, context: trace.setSpan(ROOT_CONTEXT, span) });
  }

  private finishStep(e: StepFinished): void {
    const step = this.runs.get(e.run_id)?.steps.get(e.step_id);
    if (step === undefined) return;
    this.runs.get(e.run_id)!.steps.delete(e.step_id);
    if (!e.success) {
      step.span.setAttribute(ATTR.errorType, ERROR_OTHER);
      step.span.setStatus({ code: SpanStatusCode.ERROR, ...(e.error === null ? {} : { message: e.error }) });
    }
    step.span.end(Date.parse(e.start_ts) + e.duration_ms);
  }

  /** Where a call's span hangs: its step when open, else its run; a call of an unknown run is a root. */
  private callParent(runId: string, stepId: string | null): Context {
    const run = this.runs.get(runId);
    if (run === undefined) return ROOT_CONTEXT;
    return (stepId === null ? undefined : run.steps.get(stepId)?.context) ?? run.context;
  }

  private llmCall(e: LlmCall): void {
    const operation = operationOf(e.phase);
    const attributes: OtelAttributes = {
      [ATTR.operationName]: operation,
      [ATTR.providerName]: providerName(e.provider),
      [ATTR.requestModel]: e.model,
      'gen_ai.response.model': e.model,
      'flowmeter.phase': e.phase,
      'flowmeter.streaming': e.streaming,
    };
    if (e.agent !== DEFAULT_AGENT) attributes[ATTR.agentName] = e.agent;
    if (e.input_tokens !== null) attributes[USAGE.input] = e.input_tokens;
    if (e.output_tokens !== null) attributes[USAGE.output] = e.output_tokens;
    if (e.cached_input_tokens !== null) attributes[USAGE.cacheRead] = e.cached_input_tokens;
    if (this.cost && e.cost_usd !== null) attributes[USAGE.cost] = e.cost_usd;
    if (e.ttft_ms !== null) attributes['flowmeter.ttft_ms'] = e.ttft_ms;
    if (e.cache_hit) attributes['flowmeter.cache_hit'] = true;
    const start = Date.parse(e.start_ts);
    const span = this.tracer.startSpan(`${operation} ${e.model}`, { kind: SpanKind.CLIENT, startTime: start, attributes }, this.callParent(e.run_id, e.step_id));
    if (e.ttft_ms !== null) span.addEvent('gen_ai.first_token', start + e.ttft_ms);
    if (e.error_type !== null) {
      span.setAttribute(ATTR.errorType, boundedValue(e.error_type));
      span.setStatus({ code: SpanStatusCode.ERROR, message: e.error_type });
    }
    span.end(start + e.duration_ms);
  }

  private toolCall(e: ToolCall): void {
    const attributes: OtelAttributes = { [ATTR.operationName]: OP.tool, [ATTR.toolName]: e.tool };
    if (e.agent !== DEFAULT_AGENT) attributes[ATTR.agentName] = e.agent;
    const start = Date.parse(e.start_ts);
    const span = this.tracer.startSpan(`${OP.tool} ${e.tool}`, { kind: SpanKind.INTERNAL, startTime: start, attributes }, this.callParent(e.run_id, e.step_id));
    if (!e.success) {
      span.setAttribute(ATTR.errorType, ERROR_OTHER);
      span.setStatus({ code: SpanStatusCode.ERROR, ...(e.error === null ? {} : { message: e.error }) });
    }
    span.end(start + e.duration_ms);
  }

  /** Ends a run that never finished (closing, or too many open), marked so. */
  private abandon(runId: string): void {
    const open = this.runs.get(runId);
    if (open === undefined) return;
    this.runs.delete(runId);
    for (const step of open.steps.values()) step.span.end();
    open.span.setAttribute('flowmeter.incomplete', true);
    open.span.end();
  }
}

type ExportCallback = Parameters<SpanExporter['export']>[1];

/** Passes spans on and reports a failed export to the sink's `onError` (the SDK would only log it globally). */
class ReportingSpanExporter implements SpanExporter {
  constructor(
    private readonly inner: SpanExporter,
    private readonly onError: ErrorHandler,
  ) {}

  export(spans: ReadableSpan[], resultCallback: ExportCallback): void {
    exportReporting((done) => this.inner.export(spans, done), resultCallback, this.onError, 'traces');
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}
