import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT_CONTEXT, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Span, Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter as OTLPJsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OTLPProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OtelTraceExporter } from '../../src/export/otel.js';
import { createMeter } from '../../src/meter/index.js';
import { startCollector } from '../../src/server/index.js';
import type { Collector } from '../../src/server/index.js';
import { InMemorySink } from '../../src/sinks/index.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { PRICED_MODEL, PRICES } from '../meter/fixtures.js';

const TOKEN = 'otlp-secret';
const dir = mkdtempSync(join(tmpdir(), 'flowmeter-otlp-'));
let store: SqliteStore;
let collector: Collector;

beforeAll(async () => {
  store = SqliteStore.open(join(dir, 'otlp.db'));
  collector = await startCollector({ store, port: 0, token: TOKEN, render: () => '', traceIdleMs: 300 });
});
afterAll(async () => {
  await collector.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** An app instrumented with the OpenTelemetry SDK, exporting to the collector with the real OTLP exporter. */
function appTracer(protocol: 'json' | 'proto', service: string): { tracer: Tracer; provider: BasicTracerProvider } {
  const config = { url: `${collector.url}/v1/traces`, headers: { authorization: `Bearer ${TOKEN}` } };
  const exporter = protocol === 'json' ? new OTLPJsonTraceExporter(config) : new OTLPProtoTraceExporter(config);
  const provider = new BasicTracerProvider({ resource: resourceFromAttributes({ 'service.name': service }), spanProcessors: [new BatchSpanProcessor(exporter)] });
  return { tracer: provider.getTracer('app'), provider };
}

const child = (tracer: Tracer, parent: Span, name: string, attributes: Record<string, string | number>, start: number, end: number, error = false): Span => {
  const span = tracer.startSpan(name, { startTime: start, attributes }, trace.setSpan(ROOT_CONTEXT, parent));
  if (error) span.setStatus({ code: SpanStatusCode.ERROR, message: 'search index offline' });
  span.end(end);
  return span;
};

describe('OTLP trace ingest (POST /v1/traces)', () => {
  for (const protocol of ['proto', 'json'] as const) {
    it(`turns GenAI spans sent by the OpenTelemetry SDK's OTLP exporter (${protocol}) into runs and calls`, async () => {
      const { tracer, provider } = appTracer(protocol, `genai-app-${protocol}`);
      const t0 = Date.now() - 10_000;
      const root = tracer.startSpan('invoke_agent support', { startTime: t0, attributes: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'support', 'gen_ai.conversation.id': 'conv-7' } });
      child(tracer, root, 'chat gpt-4o-mini', { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o-mini', 'gen_ai.usage.input_tokens': 1000, 'gen_ai.usage.output_tokens': 200 }, t0 + 10, t0 + 510);
      child(tracer, root, 'execute_tool search', { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'search' }, t0 + 520, t0 + 600, true);
      const worker = tracer.startSpan('invoke_agent billing', { startTime: t0 + 610, attributes: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'billing' } }, trace.setSpan(ROOT_CONTEXT, root));
      child(tracer, worker, 'chat claude', { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'anthropic', 'gen_ai.request.model': PRICED_MODEL, 'gen_ai.usage.input_tokens': 7, 'gen_ai.usage.output_tokens': 3, 'gen_ai.usage.cost': 0.25 }, t0 + 620, t0 + 900);
      worker.end(t0 + 950);
      root.end(t0 + 1000);
      await provider.forceFlush();
      await provider.shutdown();

      const traceId = root.spanContext().traceId;
      const runs = (await store.runs({ limit: 100 })).runs.filter((r) => r.trace_id === traceId);
      expect(runs.map((r) => r.flow_id).sort()).toEqual(['billing', 'support']);
      const support = runs.find((r) => r.flow_id === 'support')!;
      const billing = runs.find((r) => r.flow_id === 'billing')!;
      expect(billing.parent_run_id).toBe(support.run_id);
      expect(support).toMatchObject({ agent: 'support', session_id: 'conv-7', app_id: `genai-app-${protocol}`, llm_calls: 1, tool_calls: 1, input_tokens: 1000, output_tokens: 200, outcome: 'success' });
      expect(support.elapsed_seconds).toBeCloseTo(1, 3);
      // gpt-4o-mini from the price catalogue: $0.15 and $0.60 per million input and output tokens.
      expect(support.cost_usd).toBeCloseTo(0.00015 + 0.00012, 9);
      expect(billing).toMatchObject({ cost_usd: 0.25, total_tokens: 10, model: PRICED_MODEL, provider: 'anthropic' });

      const detail = (await store.run(support.run_id))!;
      expect(detail.calls.map((c) => [c.kind, c.kind === 'llm' ? c.model : c.tool, c.success])).toEqual([['llm', 'gpt-4o-mini', true], ['tool', 'search', false]]);
      expect(detail.calls[0]!.duration_ms).toBeCloseTo(500, 3);
      expect(detail.children.map((c) => c.run_id)).toEqual([billing.run_id]);
    });
  }

  it("round-trips flowmeter's own OtelTraceExporter: the stored run has the meter's numbers", async () => {
    const sink = new InMemorySink();
    const exporter = new OtelTraceExporter({ endpoint: `${collector.url}/v1/traces`, headers: { authorization: `Bearer ${TOKEN}` }, env: {}, serviceName: 'sdk-app' });
    const meter = createMeter({ runsDir: false, store: false, log: false, env: {}, prices: PRICES, sinks: [sink, exporter] });
    await meter.run({ flowId: 'roundtrip', agent: 'planner' }, async () => {
      await meter.llmCall({ model: PRICED_MODEL, provider: 'openai' }, (call) => call.usage({ inputTokens: 4, outputTokens: 5 }));
      await meter.toolCall('lookup', () => 'ok');
    });
    await meter.close();
    const event = sink.ofKind('run_finished')[0]!.event;
    // The run id on the span is the meter's own, so the store has the same run.
    const stored = (await store.run(event.run_id))!;
    expect(stored).not.toBeNull();
    expect(stored.run).toMatchObject({ flow_id: 'roundtrip', agent: 'planner', trace_id: event.trace_id, input_tokens: 4, output_tokens: 5, cost_usd: event.cost_usd, llm_calls: 1, tool_calls: 1, outcome: 'success' });
  });

  it('converts a trace whose root never arrives once it has been quiet', async () => {
    const { tracer, provider } = appTracer('json', 'partial-app');
    const remoteParent = trace.setSpanContext(ROOT_CONTEXT, { traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8), traceFlags: 1, isRemote: true });
    const agent = tracer.startSpan('invoke_agent remote', { attributes: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'remote' } }, remoteParent);
    child(tracer, agent, 'chat x', { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': PRICED_MODEL, 'gen_ai.usage.input_tokens': 1, 'gen_ai.usage.output_tokens': 1 }, Date.now() - 50, Date.now());
    agent.end();
    await provider.forceFlush();
    await provider.shutdown();
    expect(collector.stats().held_spans).toBe(2);
    const end = Date.now() + 10_000;
    while (collector.stats().held_spans > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    expect(collector.stats().held_spans).toBe(0);
    const runs = (await store.runs({ limit: 100 })).runs.filter((r) => r.trace_id === 'ab'.repeat(16));
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ flow_id: 'remote', llm_calls: 1, total_tokens: 2 });
  });

  it('refuses a body that is not OTLP with 400 and the reason', async () => {
    const res = await fetch(`${collector.url}/v1/traces`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: '{not json' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/^not an OTLP trace request \(JSON\)/);
    const unauthorized = await fetch(`${collector.url}/v1/traces`, { method: 'POST', body: '' });
    expect(unauthorized.status).toBe(401);
  });
});
