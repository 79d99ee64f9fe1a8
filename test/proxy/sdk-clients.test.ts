import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MOCK_USAGE } from './mock-upstream.js';
import { startRig, until } from './helpers.js';
import type { Rig } from './helpers.js';

let rig: Rig;
beforeAll(async () => {
  rig = await startRig();
});
afterAll(async () => {
  await rig.close();
});

const openai = (baseURL: string): OpenAI => new OpenAI({ apiKey: 'sk-test', baseURL, maxRetries: 0 });
const anthropic = (baseURL: string): Anthropic => new Anthropic({ apiKey: 'sk-ant-test', baseURL, maxRetries: 0 });

async function lastCall(before: number): Promise<ReturnType<Rig['sink']['ofKind']>[number] & { kind: 'llm_call' }> {
  await until(() => rig.sink.ofKind('llm_call').length > before, 'the llm_call');
  return rig.sink.ofKind('llm_call').at(-1)!;
}

describe('the openai client through the proxy', () => {
  it('gets the same chat completion as direct, and the call is recorded', async () => {
    const params = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'hi' }] };
    const direct = await openai(`${rig.upstream.url}/v1`).chat.completions.create(params);
    const before = rig.sink.ofKind('llm_call').length;
    const via = await openai(rig.openaiBase).chat.completions.create(params);
    expect(via).toEqual(direct);
    const call = await lastCall(before);
    expect([call.input_tokens, call.output_tokens, call.streaming]).toEqual([MOCK_USAGE.input, MOCK_USAGE.output, false]);
  });

  it('streams the same chunks as direct, without a usage chunk it did not ask for', async () => {
    const params = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'hi' }], stream: true as const };
    const collect = async (client: OpenAI): Promise<unknown[]> => {
      const out: unknown[] = [];
      for await (const chunk of await client.chat.completions.create(params)) out.push(chunk);
      return out;
    };
    const direct = await collect(openai(`${rig.upstream.url}/v1`));
    const before = rig.sink.ofKind('llm_call').length;
    const via = await collect(openai(rig.openaiBase));
    expect(via).toEqual(direct);
    expect(via.some((c) => (c as { usage?: unknown }).usage !== undefined)).toBe(false);
    const call = await lastCall(before);
    expect([call.input_tokens, call.output_tokens, call.streaming]).toEqual([MOCK_USAGE.input, MOCK_USAGE.output, true]);
    expect(call.ttft_ms).not.toBeNull();
  });

  it('streams a Responses call and records its usage from response.completed', async () => {
    const before = rig.sink.ofKind('llm_call').length;
    const stream = await openai(rig.openaiBase).responses.create({ model: 'gpt-4o-mini', input: 'hi', stream: true });
    let text = '';
    for await (const event of stream) if (event.type === 'response.output_text.delta') text += event.delta;
    expect(text).toBe('Hello from the');
    const call = await lastCall(before);
    expect([call.input_tokens, call.output_tokens]).toEqual([MOCK_USAGE.input, MOCK_USAGE.output]);
    expect(call.ttft_ms).not.toBeNull();
  });

  it('decodes base64 embeddings as direct', async () => {
    const direct = await openai(`${rig.upstream.url}/v1`).embeddings.create({ model: 'text-embedding-3-small', input: 'hi' });
    const via = await openai(rig.openaiBase).embeddings.create({ model: 'text-embedding-3-small', input: 'hi' });
    expect(via).toEqual(direct);
    expect(via.data[0]!.embedding).toEqual([0.25, -0.5, 0.125, 1]);
  });

  it('raises the SDK\'s own RateLimitError for an upstream 429', async () => {
    const client = new OpenAI({ apiKey: 'sk-test', baseURL: rig.openaiBase, maxRetries: 0, defaultHeaders: { 'x-mock-status': '429' } });
    await expect(client.chat.completions.create({ model: 'gpt-4o-mini', messages: [] })).rejects.toBeInstanceOf(OpenAI.RateLimitError);
  });
});

describe('the anthropic client through the proxy', () => {
  const params = { model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user' as const, content: 'hi' }] };

  it('gets the same message as direct, and the call is recorded', async () => {
    const direct = await anthropic(rig.upstream.url).messages.create(params);
    const before = rig.sink.ofKind('llm_call').length;
    const via = await anthropic(rig.anthropicBase).messages.create(params);
    expect(via).toEqual(direct);
    const call = await lastCall(before);
    expect([call.provider, call.input_tokens, call.output_tokens]).toEqual(['anthropic', MOCK_USAGE.input, MOCK_USAGE.output]);
  });

  it('streams the same final message as direct and records time to first token', async () => {
    const direct = await anthropic(rig.upstream.url).messages.stream(params).finalMessage();
    const before = rig.sink.ofKind('llm_call').length;
    const via = await anthropic(rig.anthropicBase).messages.stream(params).finalMessage();
    expect(via).toEqual(direct);
    const call = await lastCall(before);
    expect([call.input_tokens, call.output_tokens, call.streaming]).toEqual([MOCK_USAGE.input, MOCK_USAGE.output, true]);
    expect(call.ttft_ms).not.toBeNull();
  });

  it('raises the SDK\'s own error class for an upstream 529', async () => {
    const client = new Anthropic({ apiKey: 'sk-ant-test', baseURL: rig.anthropicBase, maxRetries: 0, defaultHeaders: { 'x-mock-status': '529' } });
    const err = await client.messages.create(params).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect((err as InstanceType<typeof Anthropic.APIError>).status).toBe(529);
  });
});
