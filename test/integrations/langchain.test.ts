import { tool } from '@langchain/core/tools';
import { Annotation, END, MemorySaver, START, StateGraph, interrupt } from '@langchain/langgraph';
import { ChatOpenAI } from '@langchain/openai';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { FlowmeterCallbackHandler } from '../../src/integrations/langchain.js';
import type { Meter } from '../../src/meter/index.js';
import type { RunEvent } from '../../src/model/index.js';
import type { InMemorySink } from '../../src/sinks/index.js';
import { MOCK_USAGE } from '../proxy/mock-upstream.js';
import type { MockUpstream } from '../proxy/mock-upstream.js';
import { withUpstreamAndMeter } from './harness.js';

let upstream: MockUpstream;
let meter: Meter;
let sink: InMemorySink;
withUpstreamAndMeter((h) => ({ upstream, meter, sink } = h));

const MODEL = 'gpt-4o-mini';

function chat(headers: Record<string, string> = {}, streaming = false): ChatOpenAI {
  return new ChatOpenAI({ model: MODEL, apiKey: 'sk-test', streaming, maxRetries: 0, configuration: { baseURL: `${upstream.url}/v1`, defaultHeaders: headers } });
}


async function inRun<T>(fn: () => Promise<T>): Promise<{ value: T; run: RunEvent }> {
  const result = await meter.runSettled({ flowId: 'langchain-test' }, fn);
  if (!result.ok) throw result.error as Error;
  return { value: result.value, run: result.event! };
}

describe('FlowmeterCallbackHandler with LangChain.js', () => {
  it('measures a chat model invoke: usage, cost, provider, model', async () => {
    const handler = new FlowmeterCallbackHandler({ meter });
    const { value, run } = await inRun(() => chat().invoke('hi', { callbacks: [handler] }));
    expect(value.content).toBe('Hello from the');
    const calls = sink.ofKind('llm_call').filter((c) => c.run_id === run.run_id);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ provider: 'openai', model: MODEL, streaming: false, input_tokens: MOCK_USAGE.input, output_tokens: MOCK_USAGE.output, error_type: null });
    expect(calls[0]!.cost_usd).toBeGreaterThan(0);
    expect(run.total_tokens).toBe(MOCK_USAGE.input + MOCK_USAGE.output);
  });

  it('measures a streamed call: time to first token and the usage of the final chunk', async () => {
    const handler = new FlowmeterCallbackHandler({ meter });
    const model = chat({ 'x-mock-chunks': '4', 'x-mock-chunk-delay-ms': '15' }, true);
    const { value, run } = await inRun(async () => {
      let text = '';
      for await (const chunk of await model.stream('hi', { callbacks: [handler] })) text += chunk.text;
      return text;
    });
    expect(value).toBe('Hello from the mock');
    const calls = sink.ofKind('llm_call').filter((c) => c.run_id === run.run_id);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ streaming: true, input_tokens: MOCK_USAGE.input, output_tokens: MOCK_USAGE.output });
    expect(calls[0]!.ttft_ms).toBeGreaterThanOrEqual(14);
    expect(calls[0]!.ttft_ms!).toBeLessThan(calls[0]!.duration_ms);
  });

  it('records a failed model call, and the caller gets LangChain’s error', async () => {
    const handler = new FlowmeterCallbackHandler({ meter });
    const result = await meter.runSettled({ flowId: 'langchain-error' }, () => chat({ 'x-mock-status': '500' }).invoke('hi', { callbacks: [handler] }));
    expect(result.ok).toBe(false);
    const calls = sink.ofKind('llm_call').filter((c) => c.run_id === result.event!.run_id);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.error_type).not.toBeNull();
    expect(calls[0]!.input_tokens).toBeNull();
  });

  it('measures tools, a failing tool included', async () => {
    const handler = new FlowmeterCallbackHandler({ meter });
    const lookup = tool(({ city }: { city: string }) => `sunny in ${city}`, { name: 'lookup_weather', description: 'weather', schema: z.object({ city: z.string() }) });
    const broken = tool((): string => {
      throw new RangeError('no such city');
    }, { name: 'broken', description: 'fails', schema: z.object({}) });
    const { value, run } = await inRun(async () => {
      const answer = await lookup.invoke({ city: 'Oslo' }, { callbacks: [handler] });
      await broken.invoke({}, { callbacks: [handler] }).catch(() => undefined);
      return answer;
    });
    expect(value).toBe('sunny in Oslo');
    const tools = sink.ofKind('tool_call').filter((c) => c.run_id === run.run_id);
    expect(tools.map((t) => [t.tool, t.success])).toEqual([['lookup_weather', true], ['broken', false]]);
    expect(tools[1]!.error).toContain('no such city');
  });

  it('maps a LangGraph graph: its nodes become steps, the model call belongs to its node, and the graph is a run of its own', async () => {
    const handler = new FlowmeterCallbackHandler({ meter, flowId: 'graph' });
    const State = Annotation.Root({ question: Annotation<string>(), answer: Annotation<string>(), checked: Annotation<boolean>() });
    const model = chat();
    const graph = new StateGraph(State)
      .addNode('respond', async (s: typeof State.State) => ({ answer: (await model.invoke(s.question)).text }))
      .addNode('check', (s: typeof State.State) => ({ checked: s.answer.length > 0 }))
      .addEdge(START, 'respond')
      .addEdge('respond', 'check')
      .addEdge('check', END)
      .compile();
    const before = sink.ofKind('run_finished').length;
    const out = await graph.invoke({ question: 'hi' }, { callbacks: [handler] });
    expect(out.checked).toBe(true);
    // The graph's own run has ended by the time invoke returns: no waiting for a later tick.
    await meter.flush();
    const runs = sink.ofKind('run_finished').slice(before);
    expect(runs).toHaveLength(1);
    const run = runs[0]!.event;
    expect(run).toMatchObject({ flow_id: 'graph', outcome: 'success', llm_calls: 1, steps: 2, total_tokens: MOCK_USAGE.input + MOCK_USAGE.output });
    const steps = sink.ofKind('step_finished').filter((s) => s.run_id === run.run_id);
    expect(steps.map((s) => s.step_id)).toEqual(['respond', 'check']);
    const calls = sink.ofKind('llm_call').filter((c) => c.run_id === run.run_id);
    expect(calls[0]!.step_id).toBe('respond');
  });

  it('records .stream() on a model built without the streaming option as a streamed call', async () => {
    const handler = new FlowmeterCallbackHandler({ meter });
    // No `streaming` field at all (an explicit `streaming: false` turns .stream() into invoke).
    const model = new ChatOpenAI({ model: MODEL, apiKey: 'sk-test', maxRetries: 0, configuration: { baseURL: `${upstream.url}/v1`, defaultHeaders: { 'x-mock-chunks': '3', 'x-mock-chunk-delay-ms': '5' } } });
    const { run } = await inRun(async () => {
      let text = '';
      for await (const chunk of await model.stream('hi', { callbacks: [handler] })) text += chunk.text;
      return text;
    });
    const calls = sink.ofKind('llm_call').filter((c) => c.run_id === run.run_id);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.streaming).toBe(true);
    expect(calls[0]!.ttft_ms).not.toBeNull();
  });

  it('treats a LangGraph interrupt() as a pause, not a failed step or run', async () => {
    const handler = new FlowmeterCallbackHandler({ meter, flowId: 'approval' });
    const State = Annotation.Root({ draft: Annotation<string>(), approved: Annotation<string>() });
    const graph = new StateGraph(State)
      .addNode('write', () => ({ draft: 'v1' }))
      .addNode('approve', () => ({ approved: interrupt<string, string>('approve the draft?') }))
      .addEdge(START, 'write')
      .addEdge('write', 'approve')
      .addEdge('approve', END)
      .compile({ checkpointer: new MemorySaver() });
    const before = sink.ofKind('run_finished').length;
    const out = await graph.invoke({ draft: '' }, { callbacks: [handler], configurable: { thread_id: 't1' } });
    expect(out.draft).toBe('v1');
    await meter.flush();
    const runs = sink.ofKind('run_finished').slice(before);
    expect(runs).toHaveLength(1);
    expect(runs[0]!.event).toMatchObject({ flow_id: 'approval', outcome: 'success', error_type: null });
    const steps = sink.ofKind('step_finished').filter((s) => s.run_id === runs[0]!.event.run_id);
    expect(steps.map((s) => [s.step_id, s.success])).toEqual([['write', true], ['approve', true]]);
  });

  it('keeps two concurrent invocations apart', async () => {
    const handler = new FlowmeterCallbackHandler({ meter });
    const [a, b] = await Promise.all([inRun(() => chat().invoke('a', { callbacks: [handler] })), inRun(() => chat().invoke('b', { callbacks: [handler] }))]);
    for (const { run } of [a, b]) expect(sink.ofKind('llm_call').filter((c) => c.run_id === run.run_id)).toHaveLength(1);
  });
});
