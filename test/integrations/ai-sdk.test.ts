import { createOpenAI } from '@ai-sdk/openai';
import { generateObject, generateText, streamText, tool, wrapLanguageModel } from 'ai';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { flowmeterMiddleware, observeTools } from '../../src/integrations/ai-sdk.js';
import type { Meter } from '../../src/meter/index.js';
import type { LlmCall, RunEvent } from '../../src/model/index.js';
import type { InMemorySink } from '../../src/sinks/index.js';
import { MOCK_USAGE } from '../proxy/mock-upstream.js';
import type { MockUpstream } from '../proxy/mock-upstream.js';
import { withUpstreamAndMeter } from './harness.js';

let upstream: MockUpstream;
let meter: Meter;
let sink: InMemorySink;
withUpstreamAndMeter((h) => ({ upstream, meter, sink } = h));

const MODEL = 'gpt-4o-mini';

/** The AI SDK's OpenAI provider against the local server, sending `headers` to steer it. */
function chatModel(headers: Record<string, string> = {}): ReturnType<ReturnType<typeof createOpenAI>['chat']> {
  return createOpenAI({ baseURL: `${upstream.url}/v1`, apiKey: 'sk-test', headers }).chat(MODEL);
}

const observed = (headers: Record<string, string> = {}): ReturnType<typeof chatModel> => wrapLanguageModel({ model: chatModel(headers), middleware: flowmeterMiddleware({ meter }) });

/** Runs `fn` as one run and returns its value, its LLM calls and its RunEvent. */
async function inRun<T>(fn: () => Promise<T>): Promise<{ value: T; calls: LlmCall[]; run: RunEvent }> {
  const result = await meter.runSettled({ flowId: 'ai-sdk' }, fn);
  const run = result.event!;
  if (!result.ok) throw Object.assign(result.error as Error, { run });
  return { value: result.value, calls: sink.ofKind('llm_call').filter((c) => c.run_id === run.run_id), run };
}

describe('flowmeterMiddleware with the Vercel AI SDK', () => {
  it('measures generateText: usage, cost, provider and model, and leaves the answer unchanged', async () => {
    const plain = await generateText({ model: chatModel(), prompt: 'hi', maxRetries: 0 });
    const { value, calls, run } = await inRun(() => generateText({ model: observed(), prompt: 'hi', maxRetries: 0 }));
    expect(value.text).toBe(plain.text);
    expect(value.text.length).toBeGreaterThan(0);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ provider: 'openai', model: MODEL, streaming: false, input_tokens: MOCK_USAGE.input, output_tokens: MOCK_USAGE.output, ttft_ms: null, error_type: null });
    expect(calls[0]!.cost_usd).toBeGreaterThan(0);
    expect(run.total_tokens).toBe(MOCK_USAGE.input + MOCK_USAGE.output);
  });

  it('measures streamText: time to first content token, usage from the finish part, the text unchanged', async () => {
    const headers = { 'x-mock-chunks': '5', 'x-mock-chunk-delay-ms': '15' };
    const plainText = await streamText({ model: chatModel(headers), prompt: 'hi', maxRetries: 0 }).text;
    const { value, calls } = await inRun(async () => {
      const result = streamText({ model: observed(headers), prompt: 'hi', maxRetries: 0 });
      let text = '';
      for await (const delta of result.textStream) text += delta;
      return text;
    });
    expect(value).toBe(plainText);
    expect(calls).toHaveLength(1);
    const call = calls[0]!;
    expect(call).toMatchObject({ streaming: true, input_tokens: MOCK_USAGE.input, output_tokens: MOCK_USAGE.output, error_type: null });
    // The first content delta comes after the role chunk, each 15 ms apart: TTFT is at least one gap.
    expect(call.ttft_ms).toBeGreaterThanOrEqual(14);
    expect(call.ttft_ms!).toBeLessThan(call.duration_ms);
    expect(call.duration_ms).toBeGreaterThanOrEqual(5 * 15 - 5);
  });

  it('measures generateObject', async () => {
    const headers = { 'x-mock-content': JSON.stringify({ city: 'Paris', celsius: 21 }) };
    const { value, calls } = await inRun(() => generateObject({ model: observed(headers), schema: z.object({ city: z.string(), celsius: z.number() }), prompt: 'weather', maxRetries: 0 }));
    expect(value.object).toEqual({ city: 'Paris', celsius: 21 });
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ streaming: false, input_tokens: MOCK_USAGE.input, output_tokens: MOCK_USAGE.output });
  });

  it("records a failed call and the caller gets the SDK's own error", async () => {
    const plainError = await generateText({ model: chatModel({ 'x-mock-status': '500' }), prompt: 'hi', maxRetries: 0 }).catch((e: unknown) => e);
    let thrown: unknown;
    const result = await meter.runSettled({ flowId: 'ai-sdk-error' }, async () => {
      try {
        return await generateText({ model: observed({ 'x-mock-status': '500' }), prompt: 'hi', maxRetries: 0 });
      } catch (err) {
        thrown = err;
        throw err;
      }
    });
    expect((thrown as Error).constructor).toBe((plainError as Error).constructor);
    expect((thrown as Error).message).toBe((plainError as Error).message);
    const calls = sink.ofKind('llm_call').filter((c) => c.run_id === result.event!.run_id);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.error_type).not.toBeNull();
    expect(calls[0]!.input_tokens).toBeNull();
    expect(result.event!.outcome).toBe('provider_error');
  });

  it('records an error inside a 200 stream as a failed call', async () => {
    const { calls } = await inRun(async () => {
      const result = streamText({ model: observed({ 'x-mock-stream-error': '1' }), prompt: 'hi', maxRetries: 0, onError: () => undefined });
      for await (const part of result.fullStream) void part;
    });
    expect(calls).toHaveLength(1);
    expect(calls[0]!.error_type).not.toBeNull();
    expect(calls[0]!.ttft_ms).not.toBeNull();
  });

  it('records a stream the caller aborts as a failed call with what it saw', async () => {
    const { calls } = await inRun(async () => {
      const abort = new AbortController();
      const result = streamText({ model: observed({ 'x-mock-chunks': '50', 'x-mock-chunk-delay-ms': '5' }), prompt: 'hi', maxRetries: 0, abortSignal: abort.signal, onError: () => undefined });
      for await (const delta of result.textStream) if (delta !== '') abort.abort();
      await new Promise((resolve) => setTimeout(resolve, 50));
    });
    expect(calls).toHaveLength(1);
    expect(calls[0]!.error_type).not.toBeNull();
    expect(calls[0]!.ttft_ms).not.toBeNull();
    expect(calls[0]!.duration_ms).toBeLessThan(50 * 5);
  });

  it('records a call outside any run as a run of its own', async () => {
    const before = sink.ofKind('run_finished').length;
    await generateText({ model: wrapLanguageModel({ model: chatModel(), middleware: flowmeterMiddleware({ meter, flowId: 'standalone' }) }), prompt: 'hi', maxRetries: 0 });
    await meter.flush();
    const runs = sink.ofKind('run_finished').slice(before);
    expect(runs).toHaveLength(1);
    expect(runs[0]!.event).toMatchObject({ flow_id: 'standalone', llm_calls: 1, outcome: 'success', total_tokens: MOCK_USAGE.input + MOCK_USAGE.output });
  });
});

describe('observeTools', () => {
  const weather = tool({
    description: 'Weather in a city',
    inputSchema: z.object({ city: z.string() }),
    execute: ({ city }: { city: string }) => Promise.resolve(`sunny in ${city}`),
  });
  const broken = tool({
    description: 'Always fails',
    inputSchema: z.object({}),
    execute: (_input: Record<string, never>): Promise<string> => Promise.reject(new RangeError('no such city')),
  });

  it('measures each execution as a tool call, and the error still reaches the caller', async () => {
    const tools = observeTools({ weather, broken }, { meter });
    const options = { toolCallId: 'call_1', messages: [] };
    let caught: unknown;
    const result = await meter.runSettled({ flowId: 'tools' }, async () => {
      const answer = await tools.weather.execute!({ city: 'Oslo' }, options);
      caught = await Promise.resolve(tools.broken.execute!({}, options)).catch((e: unknown) => e);
      return answer;
    });
    expect(result.ok && result.value).toBe('sunny in Oslo');
    expect(caught).toBeInstanceOf(RangeError);
    const calls = sink.ofKind('tool_call').filter((c) => c.run_id === result.event!.run_id);
    expect(calls.map((c) => [c.tool, c.success])).toEqual([['weather', true], ['broken', false]]);
    expect(calls[1]!.error).toContain('no such city');
    expect(result.event!.tool_calls).toBe(2);
    // The wrapped set keeps the tools' descriptions and schemas.
    expect(tools.weather.description).toBe('Weather in a city');
    expect(tools.weather.inputSchema).toBe(weather.inputSchema);
  });
});

describe('observeTools beyond a plain execute', () => {
  it('keeps a streaming tool streaming and measures it from the first pull to the last item', async () => {
    const tools = observeTools(
      {
        progress: tool({
          description: 'reports progress',
          inputSchema: z.object({ steps: z.number() }),
          async *execute({ steps }) {
            for (let i = 1; i <= steps; i++) {
              await new Promise((r) => setTimeout(r, 10));
              yield `step ${i}`;
            }
          },
        }),
      },
      { meter },
    );
    const result = await meter.runSettled({ flowId: 'streaming-tool' }, async () => {
      const items: unknown[] = [];
      const out = tools.progress.execute!({ steps: 3 }, { toolCallId: 't1', messages: [] }) as AsyncIterable<unknown>;
      for await (const item of out) items.push(item);
      return items;
    });
    expect(result.ok && result.value).toEqual(['step 1', 'step 2', 'step 3']);
    await meter.flush();
    const calls = sink.ofKind('tool_call').filter((c) => c.run_id === result.event!.run_id);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ tool: 'progress', success: true });
    expect(calls[0]!.duration_ms).toBeGreaterThanOrEqual(25);
  });

  it('records a streaming tool that fails, and the error still reaches the caller', async () => {
    const tools = observeTools(
      {
        broken: tool({
          inputSchema: z.object({}),
          async *execute() {
            yield await Promise.resolve('first');
            throw new RangeError('ran out');
          },
        }),
      },
      { meter },
    );
    const result = await meter.runSettled({ flowId: 'streaming-tool-error' }, async () => {
      for await (const item of tools.broken.execute!({}, { toolCallId: 't2', messages: [] }) as AsyncIterable<unknown>) void item;
    });
    expect(result.ok).toBe(false);
    expect((result as { error: Error }).error).toBeInstanceOf(RangeError);
    await meter.flush();
    const calls = sink.ofKind('tool_call').filter((c) => c.run_id === result.event!.run_id);
    expect(calls).toMatchObject([{ tool: 'broken', success: false, error: 'ran out' }]);
  });

  it('measures a tool called outside any run as a run of its own', async () => {
    const tools = observeTools({ echo: tool({ inputSchema: z.object({ text: z.string() }), execute: ({ text }) => Promise.resolve(text) }) }, { meter, flowId: 'loose-tools' });
    const before = sink.ofKind('run_finished').length;
    expect(await tools.echo.execute!({ text: 'hi' }, { toolCallId: 't3', messages: [] })).toBe('hi');
    await meter.flush();
    const runs = sink.ofKind('run_finished').slice(before);
    expect(runs.map((r) => [r.event.flow_id, r.event.tool_calls, r.event.outcome])).toEqual([['loose-tools', 1, 'success']]);
  });
});
