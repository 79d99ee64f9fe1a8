import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import protobuf from 'protobufjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { OtlpProtocol } from '../../src/export/otel.js';
import { OtelExporter } from '../../src/export/otel.js';
import * as semconv from '../../src/export/otel-semconv.js';
import type { TokensRecorded } from '../../src/model/index.js';
import { llmCall, retry, runFinished, runStarted, toolCall } from '../sinks/fixtures.js';

/*
 * A real OTLP/HTTP receiver: the exporter POSTs to it and the test decodes what arrived.
 * The advised boundaries are copied again from the semconv text (gen-ai-metrics.md), so a
 * typo in the source's tables cannot pass by agreeing with itself.
 */
const DURATION = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];
const TOKENS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];
const WORKFLOW = [1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200];
const AGENT = [0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 12.8, 25.6, 51.2, 102.4, 204.8, 409.6];

// The part of opentelemetry/proto/collector/metrics/v1 that histograms travel in, with its field numbers.
const RequestType = protobuf
  .parse(
    `syntax = "proto3"; package otlp;
    message ExportMetricsServiceRequest { repeated ResourceMetrics resource_metrics = 1; }
    message ResourceMetrics { Resource resource = 1; repeated ScopeMetrics scope_metrics = 2; }
    message Resource { repeated KeyValue attributes = 1; }
    message ScopeMetrics { repeated Metric metrics = 2; }
    message Metric { string name = 1; string description = 2; string unit = 3; oneof data { Histogram histogram = 9; } }
    message Histogram { repeated HistogramDataPoint data_points = 1; int32 aggregation_temporality = 2; }
    message HistogramDataPoint { repeated KeyValue attributes = 9; fixed64 count = 4; optional double sum = 5;
      repeated fixed64 bucket_counts = 6; repeated double explicit_bounds = 7; }
    message KeyValue { string key = 1; AnyValue value = 2; }
    message AnyValue { oneof value { string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4; } }`,
  )
  .root.lookupType('otlp.ExportMetricsServiceRequest');

/** The request as both encodings decode it: protobufjs and OTLP/JSON both use lowerCamelCase. */
interface WireKeyValue {
  readonly key: string;
  readonly value?: { stringValue?: string; boolValue?: boolean; intValue?: number | string; doubleValue?: number };
}
interface WireRequest {
  readonly resourceMetrics?: {
    resource?: { attributes?: WireKeyValue[] };
    scopeMetrics?: { metrics?: { name: string; unit?: string; histogram?: { aggregationTemporality?: number; dataPoints?: WirePoint[] } }[] }[];
  }[];
}
interface WirePoint {
  attributes?: WireKeyValue[];
  count?: number | string;
  sum?: number;
  bucketCounts?: (number | string)[];
  explicitBounds?: number[];
}

type Attrs = Record<string, string | number | boolean>;
interface Point { attributes: Attrs; count: number; sum: number; bucketCounts: number[]; explicitBounds: number[] }
interface Metric { name: string; unit: string; temporality: number; points: Point[] }
interface Received { contentType: string; headers: Record<string, unknown>; resource: Attrs; metrics: Metric[] }

function attrs(list: readonly WireKeyValue[] | undefined): Attrs {
  const out: Attrs = {};
  for (const { key, value = {} } of list ?? []) {
    const scalar = value.stringValue ?? value.boolValue ?? value.doubleValue ?? (value.intValue === undefined ? undefined : Number(value.intValue));
    if (scalar !== undefined) out[key] = scalar;
  }
  return out;
}

function decode(contentType: string, body: Buffer): Pick<Received, 'resource' | 'metrics'> {
  const request: WireRequest = contentType.includes('json')
    ? (JSON.parse(body.toString('utf8')) as WireRequest)
    : RequestType.toObject(RequestType.decode(body), { longs: Number, arrays: true });
  const rms = request.resourceMetrics ?? [];
  const metrics = rms.flatMap((rm) => (rm.scopeMetrics ?? []).flatMap((sm) => sm.metrics ?? []));
  return {
    resource: attrs(rms[0]?.resource?.attributes),
    metrics: metrics.map((m) => ({
      name: m.name,
      unit: m.unit ?? '',
      temporality: Number(m.histogram?.aggregationTemporality),
      points: (m.histogram?.dataPoints ?? []).map((p) => ({
        attributes: attrs(p.attributes),
        count: Number(p.count),
        sum: Number(p.sum),
        bucketCounts: (p.bucketCounts ?? []).map(Number),
        explicitBounds: p.explicitBounds ?? [],
      })),
    })),
  };
}

async function startCollector(): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
      const contentType = req.headers['content-type'] ?? '';
      if (req.method !== 'POST' || req.url !== '/v1/metrics') return void res.writeHead(404).end();
      received.push({ contentType, headers: req.headers, ...decode(contentType, body) });
      res.writeHead(200, { 'content-type': contentType }).end(contentType.includes('json') ? '{}' : '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return { url: `http://127.0.0.1:${port}/v1/metrics`, received, close };
}

function metric(received: Received, name: string): Metric {
  const found = received.metrics.find((m) => m.name === name);
  if (found === undefined) throw new Error(`${name} was not exported; got ${received.metrics.map((m) => m.name).join(', ')}`);
  return found;
}

/** The one point whose attributes match; `undefined` means the attribute is absent. */
function point(m: Metric, where: Record<string, string | undefined> = {}): Point {
  const found = m.points.filter((p) => Object.entries(where).every(([k, v]) => p.attributes[k] === v));
  if (found.length !== 1) throw new Error(`${m.name}: ${found.length} points match ${JSON.stringify(where)}`);
  return found[0]!;
}

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function setup(protocol: OtlpProtocol, env: Record<string, string> = {}) {
  const collector = await startCollector();
  const onError = vi.fn();
  const exporter = new OtelExporter({ endpoint: collector.url, protocol, env, onError, headers: { 'x-team': 'agents' } });
  cleanup.push(() => collector.close(), () => exporter.close());
  const exportOnce = async (): Promise<Received> => {
    await exporter.flush();
    expect(onError).not.toHaveBeenCalled();
    const last = collector.received.at(-1);
    if (last === undefined) throw new Error('the collector received nothing');
    return last;
  };
  return { exporter, exportOnce };
}

const CHAT = { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-5-mini' };

it('uses the bucket boundaries the GenAI semantic conventions advise', () => {
  expect(semconv.GEN_AI_DURATION_BUCKETS).toEqual(DURATION);
  expect(semconv.GEN_AI_TOKEN_BUCKETS).toEqual(TOKENS);
  expect(semconv.GEN_AI_WORKFLOW_BUCKETS).toEqual(WORKFLOW);
  expect(semconv.GEN_AI_AGENT_BUCKETS).toEqual(AGENT);
});

describe.each<[OtlpProtocol, string]>([
  ['http/protobuf', 'application/x-protobuf'],
  ['http/json', 'application/json'],
])('OtelExporter over %s', (protocol, contentType) => {
  it('posts to /v1/metrics with the protocol content type, headers and service name', async () => {
    const { exporter, exportOnce } = await setup(protocol, { OTEL_SERVICE_NAME: 'support-bot' });
    exporter.write([llmCall()]);
    const received = await exportOnce();
    expect([received.contentType, received.headers['x-team']]).toEqual([contentType, 'agents']);
    expect(received.resource['service.name']).toBe('support-bot');
  });

  it('records an LLM call as gen_ai.client.operation.duration in seconds with the duration buckets', async () => {
    const { exporter, exportOnce } = await setup(protocol);
    exporter.write([llmCall({ duration_ms: 111 }), llmCall({ duration_ms: 2500 })]);
    const m = metric(await exportOnce(), 'gen_ai.client.operation.duration');
    const p = point(m);
    expect([m.unit, p.attributes, p.count, p.explicitBounds]).toEqual(['s', CHAT, 2, DURATION]);
    expect(p.sum).toBeCloseTo(2.611, 9);
    // 0.111 s falls in (0.08, 0.16], 2.5 s in (1.28, 2.56].
    expect(p.bucketCounts).toEqual([0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
  });

  it('records gen_ai.client.token.usage twice per call, typed input and output', async () => {
    const { exporter, exportOnce } = await setup(protocol);
    exporter.write([
      llmCall({ input_tokens: 1234, output_tokens: 89 }),
      llmCall({ input_tokens: 766, output_tokens: 11 }),
      llmCall({ input_tokens: null, output_tokens: null }),
    ]);
    const m = metric(await exportOnce(), 'gen_ai.client.token.usage');
    const input = point(m, { 'gen_ai.token.type': 'input' });
    const output = point(m, { 'gen_ai.token.type': 'output' });
    expect([m.unit, m.points.length, input.explicitBounds]).toEqual(['{token}', 2, TOKENS]);
    expect([input.count, input.sum, output.count, output.sum]).toEqual([2, 2000, 2, 100]);
    expect(input.attributes).toEqual({ ...CHAT, 'gen_ai.token.type': 'input' });
  });

  it('adds tokens spent outside a call to gen_ai.client.token.usage without inventing a provider', async () => {
    const { exporter, exportOnce } = await setup(protocol);
    const tokens: TokensRecorded = {
      kind: 'tokens', run_id: 'run-1', flow_id: 'backup', agent: 'commis', step_id: null,
      model: 'gpt-5-mini', direction: 'in', count: 500, cost_usd: null, ts: '2025-12-15T04:08:08.400Z',
    };
    exporter.write([tokens]);
    const p = point(metric(await exportOnce(), 'gen_ai.client.token.usage'));
    expect([p.attributes, p.count, p.sum]).toEqual([{ 'gen_ai.request.model': 'gpt-5-mini', 'gen_ai.token.type': 'input' }, 1, 500]);
  });

  it('puts error.type on the failed call duration and nowhere else', async () => {
    const { exporter, exportOnce } = await setup(protocol);
    exporter.write([llmCall(), llmCall({ error_type: 'rate_limit', output_tokens: 0 })]);
    const received = await exportOnce();
    const duration = metric(received, 'gen_ai.client.operation.duration');
    expect([duration.points.length, point(duration, { 'error.type': 'rate_limit' }).count]).toEqual([2, 1]);
    expect(metric(received, 'gen_ai.client.token.usage').points.some((p) => 'error.type' in p.attributes)).toBe(false);
  });

  it('reports time to first chunk for streamed calls only', async () => {
    const { exporter, exportOnce } = await setup(protocol);
    exporter.write([llmCall({ streaming: true, ttft_ms: 420 }), llmCall({ streaming: false, ttft_ms: 99 })]);
    const m = metric(await exportOnce(), 'gen_ai.client.operation.time_to_first_chunk');
    const p = point(m);
    expect([m.unit, p.count, p.sum, p.explicitBounds]).toEqual(['s', 1, 0.42, DURATION]);
  });

  it('records tool calls as gen_ai.execute_tool.duration, failures as error.type _OTHER rather than their message', async () => {
    const { exporter, exportOnce } = await setup(protocol);
    exporter.write([
      toolCall({ duration_ms: 1111 }),
      toolCall({ duration_ms: 30, success: false, error: 'connect ECONNREFUSED 10.0.0.7:22' }),
      toolCall({ duration_ms: 5, success: false, error: 'host key verification failed for db-3' }),
    ]);
    const m = metric(await exportOnce(), 'gen_ai.execute_tool.duration');
    const ok = point(m, { 'error.type': undefined });
    expect([m.unit, ok.attributes, ok.explicitBounds]).toEqual(['s', { 'gen_ai.tool.name': 'ssh_exec', 'gen_ai.agent.name': 'commis' }, DURATION]);
    expect(ok.sum).toBeCloseTo(1.111, 9);
    // A tool error is a message, so both failures share semconv's fallback class.
    const failed = point(m, { 'error.type': '_OTHER' });
    expect(failed.count).toBe(2);
    expect(failed.sum).toBeCloseTo(0.035, 9);
  });

  it('records a finished run as workflow and agent durations with their own advised buckets', async () => {
    const { exporter, exportOnce } = await setup(protocol);
    exporter.write([
      runStarted(),
      runFinished('run-1', { elapsed_seconds: 42 }),
      runFinished('run-2', { elapsed_seconds: 3, outcome: 'timeout', success: false, error_type: 'TimeoutError' }),
    ]);
    const received = await exportOnce();
    const workflow = metric(received, 'gen_ai.workflow.duration');
    const good = point(workflow, { 'gen_ai.workflow.name': 'backup', 'error.type': undefined });
    expect([workflow.unit, good.count, good.sum, good.explicitBounds]).toEqual(['s', 1, 42, WORKFLOW]);
    expect(point(workflow, { 'error.type': 'timeout' }).sum).toBe(3);
    const agent = metric(received, 'gen_ai.invoke_agent.duration');
    const failed = point(agent, { 'error.type': 'timeout' });
    expect([agent.unit, failed.attributes, failed.explicitBounds]).toEqual(['s', { 'gen_ai.agent.name': 'commis', 'error.type': 'timeout' }, AGENT]);
  });

  it('records cost in USD per call and per run, and leaves unknown costs out', async () => {
    const { exporter, exportOnce } = await setup(protocol);
    exporter.write([
      llmCall({ cost_usd: 0.002 }),
      llmCall({ cost_usd: null }),
      runFinished('run-1', { cost_usd: 0.0123 }),
      runFinished('run-2', { cost_usd: null }),
    ]);
    const received = await exportOnce();
    const perCall = point(metric(received, 'flowmeter.client.operation.cost'));
    expect([perCall.count, perCall.sum]).toEqual([1, 0.002]);
    const perRun = metric(received, 'flowmeter.run.cost');
    const run = point(perRun, { 'gen_ai.workflow.name': 'backup' });
    expect([perRun.unit, run.count, run.sum, run.explicitBounds]).toEqual(['USD', 1, 0.0123, semconv.COST_BUCKETS]);
  });

  it('never turns run, task, user or session ids into attributes', async () => {
    const { exporter, exportOnce } = await setup(protocol);
    exporter.write([
      llmCall({ run_id: 'run-secret' }),
      toolCall({ run_id: 'run-secret' }),
      retry({ run_id: 'run-secret' }),
      runFinished('run-secret', { task_id: 'task-9', user_id: 'ada@example.com', session_id: 'sess-7' }),
    ]);
    const points = (await exportOnce()).metrics.flatMap((m) => m.points);
    const allowed = Object.values(semconv.ATTR) as string[];
    expect(points.flatMap((p) => Object.keys(p.attributes)).filter((k) => !allowed.includes(k))).toEqual([]);
    expect(points.flatMap((p) => Object.values(p.attributes)).filter((v) => /secret|task-9|ada@|sess-7/.test(String(v)))).toEqual([]);
  });

  it('exports cumulative temporality by default and delta when the environment prefers it', async () => {
    const cumulative = await setup(protocol);
    cumulative.exporter.write([llmCall()]);
    expect(metric(await cumulative.exportOnce(), 'gen_ai.client.operation.duration').temporality).toBe(2);
    const delta = await setup(protocol, { OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'delta' });
    delta.exporter.write([llmCall()]);
    expect(metric(await delta.exportOnce(), 'gen_ai.client.operation.duration').temporality).toBe(1);
  });
});
