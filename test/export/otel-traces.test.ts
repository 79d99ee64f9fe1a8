import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { context, trace } from '@opentelemetry/api';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import protobuf from 'protobufjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OtelTraceExporter } from '../../src/export/otel.js';
import type { OtlpProtocol } from '../../src/export/otel.js';
import { createMeter } from '../../src/meter/index.js';
import type { RunEvent } from '../../src/model/index.js';
import { InMemorySink } from '../../src/sinks/index.js';
import { PRICED_MODEL, PRICES } from '../meter/fixtures.js';

// The part of opentelemetry/proto/collector/trace/v1 that spans travel in, with its field numbers.
const RequestType = protobuf
  .parse(
    `syntax = "proto3"; package otlp;
    message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
    message ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; }
    message Resource { repeated KeyValue attributes = 1; }
    message ScopeSpans { repeated Span spans = 2; }
    message Span { bytes trace_id = 1; bytes span_id = 2; bytes parent_span_id = 4; string name = 5; int32 kind = 6;
      fixed64 start_time_unix_nano = 7; fixed64 end_time_unix_nano = 8; repeated KeyValue attributes = 9;
      repeated Event events = 11; Status status = 15; }
    message Event { fixed64 time_unix_nano = 1; string name = 2; }
    message Status { string message = 2; int32 code = 3; }
    message KeyValue { string key = 1; AnyValue value = 2; }
    message AnyValue { oneof value { string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4; } }`,
  )
  .root.lookupType('otlp.ExportTraceServiceRequest');

interface WireKeyValue {
  readonly key: string;
  readonly value?: { stringValue?: string; boolValue?: boolean; intValue?: number | string; doubleValue?: number };
}
interface WireSpan {
  traceId?: string | Uint8Array;
  spanId?: string | Uint8Array;
  parentSpanId?: string | Uint8Array;
  name: string;
  kind?: number;
  startTimeUnixNano?: string | number;
  endTimeUnixNano?: string | number;
  attributes?: WireKeyValue[];
  events?: { name: string; timeUnixNano?: string | number }[];
  status?: { code?: number; message?: string };
}
interface WireRequest {
  resourceSpans?: { resource?: { attributes?: WireKeyValue[] }; scopeSpans?: { spans?: WireSpan[] }[] }[];
}

type Attrs = Record<string, string | number | boolean>;
interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  startMs: number;
  endMs: number;
  attributes: Attrs;
  events: string[];
  statusCode: number;
}

function attrs(list: readonly WireKeyValue[] | undefined): Attrs {
  const out: Attrs = {};
  for (const { key, value = {} } of list ?? []) {
    const scalar = value.stringValue ?? value.boolValue ?? value.doubleValue ?? (value.intValue === undefined ? undefined : Number(value.intValue));
    if (scalar !== undefined) out[key] = scalar;
  }
  return out;
}

const hex = (id: string | Uint8Array | undefined): string => (id === undefined ? '' : typeof id === 'string' ? id : Buffer.from(id).toString('hex'));

function decode(contentType: string, body: Buffer): { spans: ReceivedSpan[]; resource: Attrs } {
  const request: WireRequest = contentType.includes('json')
    ? (JSON.parse(body.toString('utf8')) as WireRequest)
    : (RequestType.toObject(RequestType.decode(body), { longs: String, arrays: true }));
  const rss = request.resourceSpans ?? [];
  const spans = rss.flatMap((rs) => (rs.scopeSpans ?? []).flatMap((ss) => ss.spans ?? []));
  return {
    resource: attrs(rss[0]?.resource?.attributes),
    spans: spans.map((s) => ({
      traceId: hex(s.traceId),
      spanId: hex(s.spanId),
      parentSpanId: hex(s.parentSpanId),
      name: s.name,
      kind: s.kind ?? 0,
      startMs: Number(BigInt(s.startTimeUnixNano ?? 0) / 1000n) / 1000,
      endMs: Number(BigInt(s.endTimeUnixNano ?? 0) / 1000n) / 1000,
      attributes: attrs(s.attributes),
      events: (s.events ?? []).map((e) => e.name),
      statusCode: s.status?.code ?? 0,
    })),
  };
}

interface Receiver {
  readonly url: string;
  readonly spans: ReceivedSpan[];
  readonly contentTypes: string[];
  readonly resources: Attrs[];
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const spans: ReceivedSpan[] = [];
  const contentTypes: string[] = [];
  const resources: Attrs[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const type = req.headers['content-type'] ?? '';
      contentTypes.push(type);
      const decoded = decode(type, Buffer.concat(chunks));
      spans.push(...decoded.spans);
      resources.push(decoded.resource);
      res.writeHead(200, { 'content-type': type.includes('json') ? 'application/json' : 'application/x-protobuf' });
      res.end(type.includes('json') ? '{}' : '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1/traces`,
    spans,
    contentTypes,
    resources,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

let receiver: Receiver;
beforeAll(async () => {
  receiver = await startReceiver();
});
afterAll(async () => {
  await receiver.close();
});

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A concierge run with a step, a streamed LLM call, a failing tool, and a worker sub-agent run with its own call. */
async function concierge(protocol: OtlpProtocol): Promise<{ events: RunEvent[]; spans: ReceivedSpan[] }> {
  receiver.spans.length = 0;
  const sink = new InMemorySink();
  const exporter = new OtelTraceExporter({ endpoint: receiver.url, protocol, env: {}, serviceName: 'trace-test' });
  const meter = createMeter({ runsDir: false, log: false, store: false, env: {}, prices: PRICES, sinks: [sink, exporter] });
  await meter.run({ flowId: 'support', agent: 'concierge', sessionId: 'chat-42' }, async () => {
    await meter.step('plan', async () => {
      await meter.llmCall({ model: PRICED_MODEL, provider: 'openai', streaming: true }, async (call) => {
        await sleep(5);
        call.firstToken();
        await sleep(5);
        call.usage({ inputTokens: 3, outputTokens: 2, cachedInputTokens: 1 });
      });
    });
    await meter.toolCall('search', () => Promise.reject(new Error('index offline'))).catch(() => undefined);
    await meter.run({ flowId: 'billing', agent: 'worker' }, () =>
      meter.llmCall({ model: PRICED_MODEL, provider: 'anthropic', phase: 'embeddings' }, (call) => call.usage({ inputTokens: 10, outputTokens: 0 })),
    );
  });
  await meter.close();
  return { events: sink.ofKind('run_finished').map((f) => f.event), spans: [...receiver.spans] };
}

describe('OtelTraceExporter', () => {
  for (const protocol of ['http/protobuf', 'http/json'] as const) {
    it(`sends the run tree as GenAI spans over OTLP (${protocol})`, async () => {
      const { events, spans } = await concierge(protocol);
      expect(receiver.contentTypes.at(-1)).toContain(protocol === 'http/json' ? 'application/json' : 'application/x-protobuf');
      expect(receiver.resources.at(-1)?.['service.name']).toBe('trace-test');
      const root = events.find((e) => e.flow_id === 'support')!;
      const worker = events.find((e) => e.flow_id === 'billing')!;
      const byName = (name: string): ReceivedSpan => {
        const found = spans.filter((s) => s.name === name);
        expect(found, name).toHaveLength(1);
        return found[0]!;
      };
      expect(spans).toHaveLength(6);
      // One trace: the run tree's trace id is the OpenTelemetry trace id.
      for (const s of spans) expect(s.traceId).toBe(root.trace_id);

      const runSpan = byName('invoke_agent concierge');
      expect(runSpan.parentSpanId).toBe('');
      expect(runSpan.attributes).toMatchObject({
        'gen_ai.operation.name': 'invoke_agent',
        'gen_ai.agent.name': 'concierge',
        'gen_ai.conversation.id': 'chat-42',
        'flowmeter.run_id': root.run_id,
        'flowmeter.outcome': 'success',
        'gen_ai.usage.input_tokens': 3,
        'gen_ai.usage.output_tokens': 2,
        'gen_ai.usage.cost': root.cost_usd!,
        'flowmeter.tree_cost_usd': root.tree_cost_usd!,
      });
      expect(runSpan.endMs - runSpan.startMs).toBeCloseTo(root.elapsed_seconds * 1000, 0);

      const step = byName('step plan');
      expect(step.parentSpanId).toBe(runSpan.spanId);
      const chat = byName(`chat ${PRICED_MODEL}`);
      expect(chat.parentSpanId).toBe(step.spanId);
      expect(chat.kind).toBe(3); // SPAN_KIND_CLIENT
      expect(chat.attributes).toMatchObject({
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'openai',
        'gen_ai.request.model': PRICED_MODEL,
        'gen_ai.usage.input_tokens': 3,
        'gen_ai.usage.output_tokens': 2,
        'gen_ai.usage.cache_read.input_tokens': 1,
        'gen_ai.agent.name': 'concierge',
      });
      expect(chat.attributes['flowmeter.ttft_ms']).toBeGreaterThanOrEqual(4);
      expect(chat.events).toEqual(['gen_ai.first_token']);
      expect(chat.endMs - chat.startMs).toBeGreaterThanOrEqual(9);

      const tool = byName('execute_tool search');
      expect(tool.parentSpanId).toBe(runSpan.spanId);
      expect(tool.attributes).toMatchObject({ 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'search', 'error.type': '_OTHER' });
      expect(tool.statusCode).toBe(2); // STATUS_CODE_ERROR

      const workerSpan = byName('invoke_agent worker');
      expect(workerSpan.parentSpanId).toBe(runSpan.spanId);
      expect(workerSpan.attributes['flowmeter.parent_run_id']).toBe(root.run_id);
      expect(workerSpan.attributes['flowmeter.run_id']).toBe(worker.run_id);
      const embeddings = byName(`embeddings ${PRICED_MODEL}`);
      expect(embeddings.parentSpanId).toBe(workerSpan.spanId);
      expect(embeddings.attributes['gen_ai.provider.name']).toBe('anthropic');
      expect(embeddings.statusCode).toBe(0);
    });
  }

  it("joins the app's active OpenTelemetry span, and marks a failed run's span as an error", async () => {
    receiver.spans.length = 0;
    const manager = new AsyncLocalStorageContextManager().enable();
    context.setGlobalContextManager(manager);
    try {
      const appProvider = new BasicTracerProvider();
      const appTracer = appProvider.getTracer('app');
      const exporter = new OtelTraceExporter({ endpoint: receiver.url, protocol: 'http/json', env: {} });
      const sink = new InMemorySink();
      const meter = createMeter({ runsDir: false, log: false, store: false, env: {}, sinks: [sink, exporter] });
      const appSpan = appTracer.startSpan('POST /chat');
      await context.with(trace.setSpan(context.active(), appSpan), () => meter.run({ flowId: 'answer' }, () => Promise.reject(new TypeError('bad input')))).catch(() => undefined);
      appSpan.end();
      await meter.close();
      const [span] = receiver.spans;
      expect(receiver.spans).toHaveLength(1);
      expect(span!.name).toBe('invoke_workflow answer');
      expect(span!.traceId).toBe(appSpan.spanContext().traceId);
      expect(span!.parentSpanId).toBe(appSpan.spanContext().spanId);
      expect(span!.statusCode).toBe(2);
      expect(span!.attributes).toMatchObject({ 'error.type': 'TypeError', 'flowmeter.outcome': 'tool_error' });
      expect(sink.ofKind('run_finished')[0]!.event.trace_id).toBe(appSpan.spanContext().traceId);
    } finally {
      context.disable();
    }
  });

  it('reports a collector that is down through onError and never breaks the run', async () => {
    const errors: unknown[] = [];
    const exporter = new OtelTraceExporter({ endpoint: 'http://127.0.0.1:9/v1/traces', protocol: 'http/json', env: {}, timeoutMillis: 2_000, onError: (err) => errors.push(err) });
    const meter = createMeter({ runsDir: false, log: false, store: false, env: {}, sinks: [exporter] });
    expect(await meter.run({ flowId: 'offline' }, () => 42)).toBe(42);
    await meter.close();
    expect(errors.length).toBeGreaterThan(0);
  });

  it('reads OTEL_EXPORTER_OTLP_TRACES_ENDPOINT and the generic endpoint with /v1/traces', () => {
    expect(new OtelTraceExporter({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' } }).endpoint).toBe('http://collector:4318/v1/traces');
    expect(new OtelTraceExporter({ env: { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://t:1/x', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://g:2' } }).endpoint).toBe('http://t:1/x');
    expect(new OtelTraceExporter({ env: { OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json' } }).protocol).toBe('http/json');
  });
});
