import protobuf from 'protobufjs';
import { roundUsd } from '../meter/clock.js';
import type { FlowEvent, LlmCall, Outcome, RunEvent, RunMeta, ToolCall } from '../model/index.js';
import { capName } from '../model/index.js';
import { PriceBook } from '../pricing/index.js';
import { formatSummary } from '../sinks/summary.js';

/*
 * OTLP/HTTP trace ingest: spans that follow the OpenTelemetry GenAI semantic conventions
 * (what OpenLLMetry, OpenLIT, the Vercel AI SDK's telemetry and flowmeter's own
 * OtelTraceExporter send) become runs and calls of the event model.
 */

// The messages of opentelemetry/proto/collector/trace/v1 that carry spans, with their field numbers.
const TRACE_PROTO = `syntax = "proto3"; package otlp;
message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
message ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; }
message Resource { repeated KeyValue attributes = 1; }
message ScopeSpans { repeated Span spans = 2; }
message Span { bytes trace_id = 1; bytes span_id = 2; bytes parent_span_id = 4; string name = 5;
  fixed64 start_time_unix_nano = 7; fixed64 end_time_unix_nano = 8; repeated KeyValue attributes = 9;
  repeated Event events = 11; Status status = 15; }
message Event { fixed64 time_unix_nano = 1; string name = 2; repeated KeyValue attributes = 3; }
message Status { string message = 2; int32 code = 3; }
message KeyValue { string key = 1; AnyValue value = 2; }
message ArrayValue { repeated AnyValue values = 1; }
message AnyValue { oneof value { string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4; ArrayValue array_value = 5; bytes bytes_value = 7; } }`;

const RequestType = protobuf.parse(TRACE_PROTO).root.lookupType('otlp.ExportTraceServiceRequest');

type Scalar = string | number | boolean;

/** One span as the conversion needs it. */
export interface OtlpSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string;
  readonly name: string;
  readonly startMs: number;
  readonly endMs: number;
  readonly attributes: Readonly<Record<string, Scalar>>;
  readonly events: readonly { readonly name: string; readonly timeMs: number }[];
  /** 0 unset, 1 ok, 2 error. */
  readonly statusCode: number;
  readonly statusMessage: string;
  readonly service: string;
}

interface WireValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: number | string;
  doubleValue?: number;
}
interface WireKeyValue {
  key: string;
  value?: WireValue;
}
interface WireSpan {
  traceId?: string | Uint8Array;
  spanId?: string | Uint8Array;
  parentSpanId?: string | Uint8Array;
  name?: string;
  startTimeUnixNano?: string | number;
  endTimeUnixNano?: string | number;
  attributes?: WireKeyValue[];
  events?: { name?: string; timeUnixNano?: string | number }[];
  status?: { code?: number | string; message?: string };
}
interface WireRequest {
  resourceSpans?: { resource?: { attributes?: WireKeyValue[] }; scopeSpans?: { spans?: WireSpan[] }[] }[];
}

/** Not an OTLP trace request: the reason, for a 400. */
export class OtlpDecodeError extends Error {}

function attrs(list: readonly WireKeyValue[] | undefined): Record<string, Scalar> {
  const out: Record<string, Scalar> = {};
  for (const { key, value } of list ?? []) {
    if (value === undefined) continue;
    const v = value.stringValue ?? value.boolValue ?? value.doubleValue ?? (value.intValue === undefined ? undefined : Number(value.intValue));
    if (v !== undefined) out[key] = v;
  }
  return out;
}

function hex(id: string | Uint8Array | undefined): string {
  if (id === undefined) return '';
  if (typeof id === 'string') {
    // OTLP/JSON carries ids as hex; protobufjs' JSON form would be base64.
    return /^[0-9a-f]*$/i.test(id) ? id.toLowerCase() : Buffer.from(id, 'base64').toString('hex');
  }
  return Buffer.from(id).toString('hex');
}

const ms = (nanos: string | number | undefined): number => (nanos === undefined ? 0 : Number(BigInt(nanos) / 1000n) / 1000);

/** Spans of an OTLP/HTTP request body, protobuf or JSON. */
export function decodeTraces(body: Uint8Array, contentType: string): OtlpSpan[] {
  let request: WireRequest;
  try {
    request = contentType.includes('json')
      ? (JSON.parse(Buffer.from(body).toString('utf8')) as WireRequest)
      : (RequestType.toObject(RequestType.decode(body), { longs: String, arrays: true }));
  } catch (err) {
    throw new OtlpDecodeError(`not an OTLP trace request (${contentType.includes('json') ? 'JSON' : 'protobuf'}): ${err instanceof Error ? err.message : String(err)}`);
  }
  if (typeof request !== 'object' || request === null) throw new OtlpDecodeError('not an OTLP trace request: the body is not an object');
  const out: OtlpSpan[] = [];
  for (const rs of request.resourceSpans ?? []) {
    const service = String(attrs(rs.resource?.attributes)['service.name'] ?? 'unknown_service');
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        out.push({
          traceId: hex(s.traceId),
          spanId: hex(s.spanId),
          parentSpanId: hex(s.parentSpanId),
          name: s.name ?? '',
          startMs: ms(s.startTimeUnixNano),
          endMs: ms(s.endTimeUnixNano),
          attributes: attrs(s.attributes),
          events: (s.events ?? []).map((e) => ({ name: e.name ?? '', timeMs: ms(e.timeUnixNano) })),
          statusCode: Number(s.status?.code ?? 0),
          statusMessage: s.status?.message ?? '',
          service,
        });
      }
    }
  }
  return out;
}

const RUN_OPS: ReadonlySet<string> = new Set(['invoke_agent', 'invoke_workflow', 'create_agent']);
const LLM_OPS: ReadonlySet<string> = new Set(['chat', 'text_completion', 'generate_content', 'embeddings']);
const TOOL_OPS: ReadonlySet<string> = new Set(['execute_tool']);

const str = (v: Scalar | undefined): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const num = (v: Scalar | undefined): number | null => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : null);

/** The span's GenAI operation, also from the older attribute names some instrumentations still send. */
function operationOf(span: OtlpSpan): string | undefined {
  const op = str(span.attributes['gen_ai.operation.name']) ?? str(span.attributes['llm.request.type']);
  if (op !== undefined) return op === 'completion' ? 'text_completion' : op;
  // The Vercel AI SDK names its model-call spans ai.generateText.doGenerate / ai.streamText.doStream.
  if (/^ai\.\w+\.do(Generate|Stream)$/.test(span.name)) return 'chat';
  if (span.name.startsWith('ai.toolCall')) return 'execute_tool';
  return undefined;
}

function iso(msTime: number): string {
  return new Date(msTime).toISOString();
}

/**
 * Buffers spans per trace until the trace's root span has arrived (children end, and are
 * exported, before their parents) or the trace has been quiet for `idleMs`, then turns the
 * whole trace into events: every `invoke_agent` / `invoke_workflow` span is a run (a child
 * run of the nearest run span above it), every `chat` / `text_completion` /
 * `generate_content` / `embeddings` span an LLM call and every `execute_tool` span a tool
 * call of the nearest run above it. A trace with no run span is one run named after its
 * root span. Token counts, cost (`gen_ai.usage.cost`, else the price table), time to first
 * token (a `gen_ai.first_token` event or flowmeter's attribute) and errors (span status,
 * `error.type`) come from the spans.
 */
export class TraceAssembler {
  readonly #traces = new Map<string, { spans: OtlpSpan[]; lastSeen: number }>();
  readonly #prices: PriceBook;
  /** Spans held at most (traces whose root never comes); the oldest trace is converted past it. */
  readonly #maxSpans: number;
  #held = 0;

  constructor(
    private readonly emit: (events: FlowEvent[]) => void | Promise<void>,
    private readonly idleMs = 30_000,
    options: { readonly prices?: PriceBook; readonly maxSpans?: number } = {},
  ) {
    this.#prices = options.prices ?? new PriceBook();
    this.#maxSpans = options.maxSpans ?? 200_000;
  }

  /** Adds spans; converts every trace whose root is now in. */
  async add(spans: readonly OtlpSpan[], now = Date.now()): Promise<number> {
    const touched = new Set<string>();
    for (const span of spans) {
      if (span.traceId === '' || span.spanId === '') continue;
      let t = this.#traces.get(span.traceId);
      if (t === undefined) this.#traces.set(span.traceId, (t = { spans: [], lastSeen: now }));
      t.spans.push(span);
      t.lastSeen = now;
      this.#held++;
      touched.add(span.traceId);
    }
    let converted = 0;
    for (const traceId of touched) {
      const t = this.#traces.get(traceId)!;
      if (t.spans.some((s) => s.parentSpanId === '')) {
        await this.#convert(traceId);
        converted++;
      }
    }
    while (this.#held > this.#maxSpans && this.#traces.size > 0) {
      await this.#convert(this.#traces.keys().next().value!);
      converted++;
    }
    return converted;
  }

  /** Converts traces quiet for `idleMs` (their root lives in another process, or never ends). */
  async sweep(now = Date.now()): Promise<void> {
    for (const [traceId, t] of [...this.#traces]) if (now - t.lastSeen >= this.idleMs) await this.#convert(traceId);
  }

  /** Converts everything held (at shutdown). */
  async drain(): Promise<void> {
    for (const traceId of [...this.#traces.keys()]) await this.#convert(traceId);
  }

  get heldSpans(): number {
    return this.#held;
  }

  async #convert(traceId: string): Promise<void> {
    const t = this.#traces.get(traceId);
    if (t === undefined) return;
    this.#traces.delete(traceId);
    this.#held -= t.spans.length;
    const events = this.#eventsOf(traceId, t.spans);
    if (events.length > 0) await this.emit(events);
  }

  #eventsOf(traceId: string, received: readonly OtlpSpan[]): FlowEvent[] {
    let spans = [...received];
    let byId = new Map(spans.map((s) => [s.spanId, s]));
    const runSpans = spans.filter((s) => RUN_OPS.has(operationOf(s) ?? ''));
    if (runSpans.length === 0) {
      // No agent or workflow span: the trace's root (or its earliest span) stands for the run.
      const root = spans.find((s) => s.parentSpanId === '' || !byId.has(s.parentSpanId)) ?? spans[0];
      if (root === undefined) return [];
      const rootOp = operationOf(root) ?? '';
      if (LLM_OPS.has(rootOp) || TOOL_OPS.has(rootOp)) {
        // A lone call: a run of its own around it, with the same times.
        const run: OtlpSpan = { ...root, spanId: `${root.spanId}.run`, parentSpanId: '', attributes: { ...root.attributes, 'gen_ai.operation.name': 'invoke_workflow' } };
        spans = [run, ...spans.map((s) => (s === root ? { ...s, parentSpanId: run.spanId } : s))];
        byId = new Map(spans.map((s) => [s.spanId, s]));
        runSpans.push(run);
      } else {
        runSpans.push(root);
      }
    }
    const runIds = new Set(runSpans.map((s) => s.spanId));
    /** The nearest run span at or above a span. */
    const runOf = (span: OtlpSpan, includeSelf: boolean): OtlpSpan | undefined => {
      let current: OtlpSpan | undefined = includeSelf ? span : byId.get(span.parentSpanId);
      for (let depth = 0; current !== undefined && depth < 1000; depth++) {
        if (runIds.has(current.spanId)) return current;
        current = byId.get(current.parentSpanId);
      }
      return undefined;
    };
    const runIdOf = (span: OtlpSpan): string => str(span.attributes['flowmeter.run_id']) ?? `otel-${traceId}-${span.spanId}`;
    const fallbackRun = [...runSpans].sort((a, b) => a.startMs - b.startMs)[0]!;

    const calls = new Map<string, (LlmCall | ToolCall)[]>();
    for (const span of spans) {
      const op = operationOf(span);
      if (op === undefined || (!LLM_OPS.has(op) && !TOOL_OPS.has(op))) continue;
      const run = runOf(span, false) ?? fallbackRun;
      const meta = this.#meta(run, traceId, runOf(run, false), runIdOf);
      const list = calls.get(run.spanId) ?? [];
      list.push(LLM_OPS.has(op) ? this.#llmCall(span, meta, op) : toolCall(span, meta));
      calls.set(run.spanId, list);
    }

    const events: FlowEvent[] = [];
    // Parents before children, each run's calls in time order, children's ends before parents'.
    const ordered = [...runSpans].sort((a, b) => a.startMs - b.startMs);
    for (const run of ordered) {
      const meta = this.#meta(run, traceId, runOf(run, false), runIdOf);
      events.push({ kind: 'run_started', run: meta, ts: iso(run.startMs) });
    }
    for (const run of ordered) for (const call of (calls.get(run.spanId) ?? []).sort((a, b) => a.start_ts.localeCompare(b.start_ts))) events.push(call);
    for (const run of [...ordered].sort((a, b) => a.endMs - b.endMs)) {
      const meta = this.#meta(run, traceId, runOf(run, false), runIdOf);
      const event = runEventOf(run, meta, calls.get(run.spanId) ?? []);
      events.push({ kind: 'run_finished', run: meta, ts: event.finished_at, event, summary: formatSummary(event) });
    }
    return events;
  }

  #meta(span: OtlpSpan, traceId: string, parent: OtlpSpan | undefined, runIdOf: (s: OtlpSpan) => string): RunMeta {
    const a = span.attributes;
    const agent = str(a['gen_ai.agent.name']);
    const flow = str(a['gen_ai.workflow.name']) ?? str(a['flowmeter.flow_id']) ?? agent ?? (span.name === '' ? span.service : span.name);
    const session = str(a['gen_ai.conversation.id']) ?? str(a['session.id']);
    const app = str(a['flowmeter.app_id']) ?? span.service;
    return {
      run_id: capName(runIdOf(span)),
      flow_id: capName(flow),
      task_id: null,
      agent: capName(agent ?? 'default'),
      exec_mode: 'live',
      branch: 'unknown',
      app_id: capName(app),
      ...(session === undefined ? {} : { session_id: capName(session) }),
      ...(parent === undefined ? {} : { parent_run_id: capName(runIdOf(parent)) }),
      trace_id: traceId,
      attributes: { source: 'otlp', span_name: span.name },
    };
  }

  #llmCall(span: OtlpSpan, meta: RunMeta, op: string): LlmCall {
    const a = span.attributes;
    const provider = str(a['gen_ai.provider.name']) ?? str(a['gen_ai.system']) ?? 'unknown';
    const model = str(a['gen_ai.response.model']) ?? str(a['gen_ai.request.model']) ?? 'unknown';
    const input = num(a['gen_ai.usage.input_tokens']) ?? num(a['gen_ai.usage.prompt_tokens']);
    const output = num(a['gen_ai.usage.output_tokens']) ?? num(a['gen_ai.usage.completion_tokens']);
    const cached = num(a['gen_ai.usage.cache_read.input_tokens']) ?? num(a['gen_ai.usage.cache_read_input_tokens']);
    const reported = num(a['gen_ai.usage.cost']);
    const estimated = reported === null && input !== null && output !== null ? this.#prices.estimate(model, input, output, cached ?? undefined, undefined, provider) : null;
    const cost = reported ?? (estimated === null ? null : roundUsd(estimated));
    const first = span.events.find((e) => e.name === 'gen_ai.first_token' || e.name === 'gen_ai.content.first_chunk');
    const ttft = num(a['flowmeter.ttft_ms']) ?? (first === undefined ? null : Math.max(0, first.timeMs - span.startMs));
    const failed = span.statusCode === 2 || str(a['error.type']) !== undefined;
    return {
      kind: 'llm_call',
      run_id: meta.run_id,
      flow_id: meta.flow_id,
      agent: meta.agent,
      step_id: null,
      provider: capName(provider),
      model: capName(model),
      phase: capName(str(a['flowmeter.phase']) ?? op),
      start_ts: iso(span.startMs),
      end_ts: iso(span.endMs),
      duration_ms: Math.max(0, span.endMs - span.startMs),
      ttft_ms: ttft,
      input_tokens: input,
      output_tokens: output,
      total_tokens: input !== null && output !== null ? input + output : null,
      cached_input_tokens: cached,
      cost_usd: cost,
      cost_source: reported !== null ? 'provider' : cost !== null ? 'price_table' : null,
      streaming: ttft !== null || a['gen_ai.request.stream'] === true,
      cache_hit: false,
      error_type: failed ? capName(str(a['error.type']) ?? 'error') : null,
    };
  }
}

function toolCall(span: OtlpSpan, meta: RunMeta): ToolCall {
  const failed = span.statusCode === 2 || str(span.attributes['error.type']) !== undefined;
  return {
    kind: 'tool_call',
    run_id: meta.run_id,
    flow_id: meta.flow_id,
    agent: meta.agent,
    step_id: null,
    tool: capName(str(span.attributes['gen_ai.tool.name']) ?? span.name.replace(/^execute_tool /, '')),
    start_ts: iso(span.startMs),
    end_ts: iso(span.endMs),
    duration_ms: Math.max(0, span.endMs - span.startMs),
    success: !failed,
    error: failed ? (span.statusMessage === '' ? (str(span.attributes['error.type']) ?? 'error') : span.statusMessage) : null,
  };
}

/** The run's RunEvent, summed from its calls; the outcome from the span's status. */
function runEventOf(span: OtlpSpan, meta: RunMeta, calls: readonly (LlmCall | ToolCall)[]): RunEvent {
  const llm = calls.filter((c): c is LlmCall => c.kind === 'llm_call');
  const sum = (pick: (c: LlmCall) => number | null): number | null => {
    let total = 0;
    for (const c of llm) {
      const v = pick(c);
      if (v === null) return null;
      total += v;
    }
    return total;
  };
  const failedCall = calls.find((c) => (c.kind === 'llm_call' ? c.error_type !== null : !c.success));
  const failed = span.statusCode === 2 || str(span.attributes['error.type']) !== undefined;
  const outcome: Outcome = !failed ? 'success' : failedCall?.kind === 'llm_call' ? 'provider_error' : 'tool_error';
  const cost = sum((c) => c.cost_usd);
  const models = new Map<string, number>();
  for (const c of llm) models.set(c.model, (models.get(c.model) ?? 0) + 1);
  const main = [...models.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? null;
  return {
    run_id: meta.run_id,
    task_id: null,
    flow_id: meta.flow_id,
    agent: meta.agent,
    exec_mode: 'live',
    branch: meta.branch,
    provider: main === null ? null : (llm.find((c) => c.model === main)?.provider ?? null),
    model: main,
    outcome,
    success: outcome === 'success',
    partial: false,
    started_at: iso(span.startMs),
    finished_at: iso(span.endMs),
    elapsed_seconds: Math.max(0, span.endMs - span.startMs) / 1000,
    input_tokens: sum((c) => c.input_tokens),
    output_tokens: sum((c) => c.output_tokens),
    total_tokens: sum((c) => c.total_tokens),
    cached_input_tokens: sum((c) => c.cached_input_tokens),
    cost_usd: cost === null ? null : roundUsd(cost),
    limits_exceeded: [],
    retries: 0,
    retries_by_reason: {},
    retry_backoff_seconds: 0,
    budget_exceeded_during_retry: false,
    llm_calls: llm.length,
    tool_calls: calls.length - llm.length,
    steps: 0,
    error_type: outcome === 'success' ? null : capName(str(span.attributes['error.type']) ?? failedCall?.kind ?? 'error'),
    app_id: meta.app_id ?? null,
    session_id: meta.session_id ?? null,
    user_id: null,
    parent_run_id: meta.parent_run_id ?? null,
    trace_id: meta.trace_id ?? null,
    attributes: meta.attributes,
  };
}
