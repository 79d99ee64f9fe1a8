import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { observeAnthropic } from '../../src/integrations/anthropic.js';
import { observeOpenAI } from '../../src/integrations/openai.js';
import type { Meter } from '../../src/meter/index.js';
import type { LlmCall } from '../../src/model/index.js';
import type { InMemorySink } from '../../src/sinks/index.js';
import { MOCK_USAGE } from '../proxy/mock-upstream.js';
import type { MockUpstream } from '../proxy/mock-upstream.js';
import { withUpstreamAndMeter } from './harness.js';

let upstream: MockUpstream;
let meter: Meter;
let sink: InMemorySink;
withUpstreamAndMeter((h) => ({ upstream, meter, sink } = h));

const plainOpenAI = (maxRetries = 0): OpenAI => new OpenAI({ apiKey: 'sk-test', baseURL: `${upstream.url}/v1`, maxRetries });
const observedOpenAI = (maxRetries = 0): OpenAI => observeOpenAI(plainOpenAI(maxRetries), { meter });
const plainAnthropic = (): Anthropic => new Anthropic({ apiKey: 'sk-ant-test', baseURL: upstream.url, maxRetries: 0 });
const observedAnthropic = (): Anthropic => observeAnthropic(plainAnthropic(), { meter });

const chat = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'hi' }] };

/** The calls and the run event of the one run `fn` makes. */
async function inRun<T>(fn: () => Promise<T>): Promise<{ value: T; calls: LlmCall[]; run: NonNullable<Awaited<ReturnType<Meter['runSettled']>>['event']>; retries: number }> {
  const result = await meter.runSettled({ flowId: 'integration' }, fn);
  if (!result.ok) throw result.error as Error;
  const runId = result.event!.run_id;
  // The wrapper records a stream's call when the stream ends; the run waits for nothing else.
  const calls = sink.ofKind('llm_call').filter((c) => c.run_id === runId);
  const retries = sink.ofKind('retry').filter((r) => r.run_id === runId).length;
  return { value: result.value, calls, run: result.event!, retries };
}

describe('observeOpenAI with the official openai client', () => {
  it('measures a chat completion and returns what the plain client returns', async () => {
    const direct = await plainOpenAI().chat.completions.create(chat);
    const { value, calls, run } = await inRun(() => observedOpenAI().chat.completions.create(chat));
    expect(value).toEqual(direct);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ provider: 'openai', model: 'gpt-4o-mini', input_tokens: MOCK_USAGE.input, output_tokens: MOCK_USAGE.output, streaming: false, error_type: null });
    expect(calls[0]!.cost_usd).toBeGreaterThan(0);
    expect(run).toMatchObject({ llm_calls: 1, input_tokens: MOCK_USAGE.input, output_tokens: MOCK_USAGE.output });
  });

  it('passes a stream through unchanged, asks for usage on its behalf and hides the usage chunk', async () => {
    const collect = async (client: OpenAI): Promise<unknown[]> => {
      const out: unknown[] = [];
      for await (const chunk of await client.chat.completions.create({ ...chat, stream: true })) out.push(chunk);
      return out;
    };
    const direct = await collect(plainOpenAI());
    const { value, calls } = await inRun(() => collect(observedOpenAI()));
    expect(value).toEqual(direct);
    expect(value.some((c) => (c as { usage?: unknown }).usage !== undefined)).toBe(false);
    expect(upstream.received.at(-1)!.body).toContain('"include_usage":true');
    expect(calls[0]).toMatchObject({ input_tokens: MOCK_USAGE.input, output_tokens: MOCK_USAGE.output, streaming: true });
    expect(calls[0]!.ttft_ms).not.toBeNull();
  });

  it('keeps the usage chunk when the caller asked for it', async () => {
    const { value } = await inRun(async () => {
      const out: { usage?: unknown }[] = [];
      for await (const chunk of await observedOpenAI().chat.completions.create({ ...chat, stream: true, stream_options: { include_usage: true } })) out.push(chunk);
      return out;
    });
    expect(value.at(-1)!.usage).toMatchObject({ prompt_tokens: MOCK_USAGE.input });
  });

  it('measures responses (streamed and not) and embeddings', async () => {
    const { value, calls } = await inRun(async () => {
      const whole = await observedOpenAI().responses.create({ model: 'gpt-4o-mini', input: 'hi' });
      let text = '';
      for await (const event of await observedOpenAI().responses.create({ model: 'gpt-4o-mini', input: 'hi', stream: true })) if (event.type === 'response.output_text.delta') text += event.delta;
      const vectors = await observedOpenAI().embeddings.create({ model: 'text-embedding-3-small', input: 'hi' });
      return { whole: whole.output_text, text, dims: vectors.data[0]!.embedding.length };
    });
    expect(value).toEqual({ whole: 'Hello from the', text: 'Hello from the', dims: 4 });
    expect(calls.map((c) => [c.streaming, c.input_tokens, c.output_tokens])).toEqual([
      [false, MOCK_USAGE.input, MOCK_USAGE.output],
      [true, MOCK_USAGE.input, MOCK_USAGE.output],
      [false, 5, 0],
    ]);
  });

  it("records each failed attempt and the client's retries, and the caller gets the client's own error", async () => {
    const result = await meter.runSettled({ flowId: 'retrying' }, () => observedOpenAI(1).chat.completions.create(chat, { headers: { 'x-mock-status': '429' } }));
    expect(result.ok).toBe(false);
    expect(result.ok ? undefined : result.error).toBeInstanceOf(OpenAI.RateLimitError);
    const runId = result.event!.run_id;
    const calls = sink.ofKind('llm_call').filter((c) => c.run_id === runId);
    expect(calls.map((c) => c.error_type)).toEqual(['rate_limit', 'rate_limit']);
    expect(sink.ofKind('retry').filter((r) => r.run_id === runId).map((r) => r.reason)).toEqual(['rate_limit']);
    expect(result.event).toMatchObject({ retries: 1, outcome: 'provider_error' });
  });

  it('records a stream the caller leaves early as a cancelled call with what it saw', async () => {
    const { calls } = await inRun(async () => {
      const stream = await observedOpenAI().chat.completions.create({ ...chat, stream: true }, { headers: { 'x-mock-chunks': '6', 'x-mock-chunk-delay-ms': '5' } });
      for await (const chunk of stream) if (chunk.choices[0]?.delta.content) break;
      // The cancellation reaches the wrapper on the next turn.
      await new Promise((r) => setTimeout(r, 20));
    });
    expect(calls).toHaveLength(1);
    expect(calls[0]!.error_type).not.toBeNull();
    expect(calls[0]!.input_tokens).toBeNull();
  });

  it('makes a call outside any run a run of its own', async () => {
    const before = sink.ofKind('run_finished').length;
    await observedOpenAI().chat.completions.create(chat);
    await new Promise((r) => setTimeout(r, 20));
    const runs = sink.ofKind('run_finished').slice(before);
    expect(runs).toHaveLength(1);
    expect(runs[0]!.event).toMatchObject({ flow_id: 'openai', llm_calls: 1, outcome: 'success', input_tokens: MOCK_USAGE.input });
  });

  it('wraps a client once, however often it is observed', async () => {
    const client = observedOpenAI();
    expect(observeOpenAI(client, { meter })).toBe(client);
    const { calls } = await inRun(() => client.chat.completions.create(chat));
    expect(calls).toHaveLength(1);
  });
});

describe('observeAnthropic with the official @anthropic-ai/sdk client', () => {
  const params = { model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user' as const, content: 'hi' }] };

  it('measures messages.create and returns what the plain client returns', async () => {
    const direct = await plainAnthropic().messages.create(params);
    const { value, calls } = await inRun(() => observedAnthropic().messages.create(params));
    expect(value).toEqual(direct);
    expect(calls[0]).toMatchObject({ provider: 'anthropic', model: 'claude-sonnet-4-5', input_tokens: MOCK_USAGE.input, output_tokens: MOCK_USAGE.output, cached_input_tokens: 0, streaming: false });
    expect(calls[0]!.cost_usd).toBeGreaterThan(0);
  });

  it('measures messages.stream with time to first content token', async () => {
    const { value, calls } = await inRun(async () => {
      const stream = observedAnthropic().messages.stream(params);
      const message = await stream.finalMessage();
      return message.content.map((c) => (c.type === 'text' ? c.text : '')).join('');
    });
    expect(value).toBe('Hello from the');
    expect(calls[0]).toMatchObject({ input_tokens: MOCK_USAGE.input, output_tokens: MOCK_USAGE.output, streaming: true, error_type: null });
    expect(calls[0]!.ttft_ms).not.toBeNull();
  });

  it('records an error event inside a 200 stream with its type, and the caller gets the client’s error', async () => {
    const result = await meter.runSettled({ flowId: 'overloaded' }, async () => {
      const stream = observedAnthropic().messages.stream(params, { headers: { 'x-mock-stream-error': '1' } });
      return stream.finalMessage();
    });
    expect(result.ok).toBe(false);
    const calls = sink.ofKind('llm_call').filter((c) => c.run_id === result.event!.run_id);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.error_type).toBe('overloaded_error');
  });
});
