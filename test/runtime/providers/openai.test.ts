import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorType } from '../../../src/meter/errors.js';
import { OpenAIProvider, ProviderError } from '../../../src/runtime/providers/index.js';
import type { WireServer } from './wire-server.js';
import { json, splitBytes, startWireServer, streamPieces } from './wire-server.js';

const chunk = (delta: Record<string, unknown>, finish: string | null = null): string =>
  `data: ${JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', model: 'gpt-4o-mini-2024-07-18', choices: [{ index: 0, delta, finish_reason: finish }] })}`;

/** A stream as api.openai.com sends it with include_usage, plus a comment and CRLFs. */
const STREAM = [
  ': keep-alive\r\n\r\n',
  `${chunk({ role: 'assistant', content: '' })}\r\n\r\n`,
  `${chunk({ content: 'Héllo' })}\n\n${chunk({ content: ' wörld 🌍' })}\n\n`,
  `${chunk({ content: '!' })}\n\n`,
  `${chunk({}, 'stop')}\n\n`,
  `data: ${JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', model: 'gpt-4o-mini-2024-07-18', choices: [], usage: { prompt_tokens: 20, completion_tokens: 5, total_tokens: 25, prompt_tokens_details: { cached_tokens: 8 }, cost: 0.00042 } })}\n\n`,
  'data: [DONE]\n\n',
].join('');

/** Byte offsets that cut inside the emoji, between a CR and its LF, and mid-JSON. */
function awkwardOffsets(text: string): number[] {
  const bytes = Buffer.from(text, 'utf8');
  const emoji = bytes.indexOf(Buffer.from('🌍', 'utf8'));
  const crlf = bytes.indexOf(Buffer.from('\r\n'));
  const secondCrlf = bytes.indexOf(Buffer.from('\r\n'), crlf + 4);
  const ö = bytes.indexOf(Buffer.from('ö', 'utf8'));
  return [crlf + 1, secondCrlf - 7, secondCrlf + 1, ö + 1, emoji + 1, emoji + 3, bytes.indexOf(Buffer.from('[DONE]')) + 2];
}

const messages = [
  { role: 'system', content: 'Be brief.' },
  { role: 'user', content: 'Say hello.' },
] as const;

describe('OpenAIProvider', () => {
  let server: WireServer;
  let provider: OpenAIProvider;
  beforeAll(async () => {
    server = await startWireServer();
    provider = new OpenAIProvider({ apiKey: 'sk-test', baseUrl: `${server.url}/v1/`, headers: { 'x-title': 'flowmeter' } }, {});
  });
  afterAll(() => server.close());

  it('streams a completion split at awkward byte offsets and maps its usage', async () => {
    server.reply((res) => streamPieces(res, splitBytes(STREAM, awkwardOffsets(STREAM)), 15));
    const events: string[] = [];
    let firstTokenAt = 0;
    const started = performance.now();
    const result = await provider.complete({
      model: 'gpt-4o-mini',
      messages,
      maxTokens: 64,
      temperature: 0.2,
      onFirstToken: () => {
        firstTokenAt = performance.now();
        events.push('first-token');
      },
    });
    const doneAt = performance.now();
    events.push('done');
    expect(result).toEqual({
      text: 'Héllo wörld 🌍!',
      model: 'gpt-4o-mini-2024-07-18',
      finishReason: 'stop',
      usage: { inputTokens: 20, outputTokens: 5, totalTokens: 25, cachedInputTokens: 8, costUsd: 0.00042 },
    });
    expect(events).toEqual(['first-token', 'done']);
    expect(firstTokenAt - started).toBeLessThan(doneAt - started - 20);
  });

  it('sends the chat request with stream_options.include_usage and a bearer key', async () => {
    server.reply((res) => streamPieces(res, [Buffer.from(STREAM)], 0));
    await provider.complete({ model: 'gpt-4o-mini', messages, maxTokens: 64, temperature: 0.2 });
    const request = server.requests.at(-1)!;
    expect(request.method).toBe('POST');
    expect(request.url).toBe('/v1/chat/completions');
    expect(request.headers.authorization).toBe('Bearer sk-test');
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers['x-title']).toBe('flowmeter');
    expect(request.body).toEqual({
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Say hello.' },
      ],
      max_tokens: 64,
      temperature: 0.2,
      stream: true,
      stream_options: { include_usage: true },
    });
  });

  it('answers a non-streaming request from the JSON body without calling onFirstToken', async () => {
    server.reply((res) =>
      json(res, 200, {
        id: 'chatcmpl-2',
        object: 'chat.completion',
        model: 'gpt-4o-2024-08-06',
        choices: [{ index: 0, message: { role: 'assistant', content: 'Hi.' }, finish_reason: 'length' }],
        usage: { prompt_tokens: 12, completion_tokens: 2, total_tokens: 14 },
      }),
    );
    let calls = 0;
    const result = await provider.complete({ model: 'gpt-4o', messages, stream: false, onFirstToken: () => calls++ });
    expect(result).toEqual({ text: 'Hi.', model: 'gpt-4o-2024-08-06', finishReason: 'length', usage: { inputTokens: 12, outputTokens: 2, totalTokens: 14 } });
    expect(calls).toBe(0);
    expect(server.requests.at(-1)!.body).toEqual({ model: 'gpt-4o', messages: [...messages] });
  });

  it('reads a JSON answer from a server that ignored stream: true', async () => {
    server.reply((res) => json(res, 200, { model: 'local', choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }] }));
    const result = await provider.complete({ model: 'local', messages });
    expect(result).toEqual({ text: 'ok', model: 'local', finishReason: 'stop', usage: undefined });
  });

  it('puts maxTokens in max_completion_tokens when asked, for reasoning models', async () => {
    const reasoning = new OpenAIProvider({ apiKey: 'sk-test', baseUrl: `${server.url}/v1`, maxTokensField: 'max_completion_tokens' }, {});
    server.reply((res) => streamPieces(res, [Buffer.from(STREAM)], 0));
    await reasoning.complete({ model: 'o3-mini', messages, maxTokens: 500 });
    expect(server.requests.at(-1)!.body).toMatchObject({ max_completion_tokens: 500 });
    expect(server.requests.at(-1)!.body).not.toHaveProperty('max_tokens');
  });

  it('talks to a keyless local server (Ollama, vLLM) named by OPENAI_BASE_URL', async () => {
    const local = new OpenAIProvider({}, { OPENAI_BASE_URL: `${server.url}/v1` });
    server.reply((res) => streamPieces(res, [Buffer.from(STREAM)], 0));
    await local.complete({ model: 'llama3.2', messages });
    expect(server.requests.at(-1)!.headers.authorization).toBeUndefined();
  });

  it('fails with the error a chunk carries after the 200, as OpenRouter sends it', async () => {
    const body = `${chunk({ content: 'Hel' })}\n\n: OPENROUTER PROCESSING\n\ndata: ${JSON.stringify({ error: { code: 502, message: 'Upstream provider went away' } })}\n\n`;
    server.reply((res) => streamPieces(res, [Buffer.from(body)], 0));
    const err = await provider.complete({ model: 'openai/gpt-4o', messages }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as ProviderError).message).toContain('Upstream provider went away');
    expect(errorType(err)).toBe('server_error');
  });

  it('treats a stream cut before [DONE] and any finish_reason as a dropped connection', async () => {
    server.reply((res) => streamPieces(res, [Buffer.from(`${chunk({ content: 'Hel' })}\n\n`)], 0));
    const err = await provider.complete({ model: 'gpt-4o-mini', messages }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(errorType(err)).toBe('connection_error');
  });

  it('reports a malformed data payload as a bad response', async () => {
    server.reply((res) => streamPieces(res, [Buffer.from('data: {not json\n\n')], 0));
    await expect(provider.complete({ model: 'gpt-4o-mini', messages })).rejects.toMatchObject({ name: 'ProviderError', code: 'bad_response' });
  });
});
