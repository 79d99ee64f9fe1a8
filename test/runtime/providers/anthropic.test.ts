import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorType } from '../../../src/meter/errors.js';
import { AnthropicProvider, ProviderError } from '../../../src/runtime/providers/index.js';
import type { WireServer } from './wire-server.js';
import { json, splitBytes, startWireServer, streamPieces } from './wire-server.js';

const sse = (event: string, data: Record<string, unknown>): string => `event: ${event}\ndata: ${JSON.stringify({ type: event, ...data })}\n\n`;

const START = sse('message_start', {
  message: {
    id: 'msg_1',
    type: 'message',
    role: 'assistant',
    model: 'claude-sonnet-4-20250514',
    content: [],
    stop_reason: null,
    usage: { input_tokens: 25, cache_read_input_tokens: 1000, cache_creation_input_tokens: 200, output_tokens: 1 },
  },
});

/** A stream as the Messages API sends it (docs' "Basic streaming request" example). */
const STREAM = [
  START,
  sse('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
  sse('ping', {}),
  sse('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Bonjour' } }),
  sse('content_block_delta', { index: 0, delta: { type: 'text_delta', text: ', ça va ✨' } }),
  sse('content_block_stop', { index: 0 }),
  sse('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 15 } }),
  sse('message_stop', {}),
].join('');

const messages = [
  { role: 'system', content: 'You are terse.' },
  { role: 'system', content: 'Answer in French.' },
  { role: 'user', content: 'Greet me.' },
] as const;

describe('AnthropicProvider', () => {
  let server: WireServer;
  let provider: AnthropicProvider;
  beforeAll(async () => {
    server = await startWireServer();
    provider = new AnthropicProvider({ apiKey: 'sk-ant-test', baseUrl: server.url }, {});
  });
  afterAll(() => server.close());

  it('streams a message split mid-line and inside UTF-8, folding cache tokens into input', async () => {
    const bytes = Buffer.from(STREAM, 'utf8');
    const sparkle = bytes.indexOf(Buffer.from('✨', 'utf8'));
    const offsets = [40, bytes.indexOf(Buffer.from('text_delta')) + 4, bytes.indexOf(Buffer.from('ç')) + 1, sparkle + 1, sparkle + 2, bytes.indexOf(Buffer.from('message_delta')) - 3];
    server.reply((res) => streamPieces(res, splitBytes(STREAM, offsets), 15));
    const events: string[] = [];
    let firstTokenAt = 0;
    const started = performance.now();
    const result = await provider.complete({
      model: 'claude-sonnet-4',
      messages,
      onFirstToken: () => {
        firstTokenAt = performance.now();
        events.push('first-token');
      },
    });
    events.push('done');
    expect(result).toEqual({
      text: 'Bonjour, ça va ✨',
      model: 'claude-sonnet-4-20250514',
      finishReason: 'end_turn',
      usage: { inputTokens: 1225, outputTokens: 15, cachedInputTokens: 1000, cacheWriteTokens: 200 },
    });
    expect(events).toEqual(['first-token', 'done']);
    expect(firstTokenAt - started).toBeLessThan(performance.now() - started - 20);
  });

  it('sends system messages in the top-level system field with max_tokens and its headers', async () => {
    server.reply((res) => streamPieces(res, [Buffer.from(STREAM)], 0));
    await provider.complete({ model: 'claude-sonnet-4', messages, temperature: 0 });
    const request = server.requests.at(-1)!;
    expect(request.url).toBe('/v1/messages');
    expect(request.headers['x-api-key']).toBe('sk-ant-test');
    expect(request.headers['anthropic-version']).toBe('2023-06-01');
    expect(request.headers.authorization).toBeUndefined();
    expect(request.body).toEqual({
      model: 'claude-sonnet-4',
      max_tokens: 1024,
      system: 'You are terse.\n\nAnswer in French.',
      messages: [{ role: 'user', content: 'Greet me.' }],
      temperature: 0,
      stream: true,
    });
  });

  it('passes maxTokens and a chosen API version through', async () => {
    const pinned = new AnthropicProvider({ apiKey: 'k', baseUrl: server.url, version: '2024-01-01' }, {});
    server.reply((res) => streamPieces(res, [Buffer.from(STREAM)], 0));
    await pinned.complete({ model: 'claude-haiku', messages: [{ role: 'user', content: 'hi' }], maxTokens: 99 });
    const request = server.requests.at(-1)!;
    expect(request.headers['anthropic-version']).toBe('2024-01-01');
    expect(request.body).toEqual({ model: 'claude-haiku', max_tokens: 99, messages: [{ role: 'user', content: 'hi' }], stream: true });
  });

  it('answers a non-streaming request from the JSON body', async () => {
    server.reply((res) =>
      json(res, 200, {
        id: 'msg_2',
        type: 'message',
        role: 'assistant',
        model: 'claude-haiku-4-5',
        content: [
          { type: 'thinking', thinking: 'hmm', signature: 's' },
          { type: 'text', text: 'Salut' },
          { type: 'text', text: ' !' },
        ],
        stop_reason: 'max_tokens',
        usage: { input_tokens: 9, output_tokens: 3 },
      }),
    );
    let calls = 0;
    const result = await provider.complete({ model: 'claude-haiku-4-5', messages, stream: false, onFirstToken: () => calls++ });
    expect(result).toEqual({ text: 'Salut !', model: 'claude-haiku-4-5', finishReason: 'max_tokens', usage: { inputTokens: 9, outputTokens: 3 } });
    expect(calls).toBe(0);
    expect(server.requests.at(-1)!.body).not.toHaveProperty('stream');
  });

  it('turns an error event mid-stream into a ProviderError with the status its type stands for', async () => {
    const body = START + sse('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Bon' } }) + sse('error', { error: { type: 'overloaded_error', message: 'Overloaded' } });
    server.reply((res) => streamPieces(res, [Buffer.from(body)], 0));
    const err = await provider.complete({ model: 'claude-sonnet-4', messages }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({ status: 529, code: 'overloaded_error', message: 'anthropic stream error: Overloaded' });
    expect(errorType(err)).toBe('server_error');
  });

  it('treats a stream that ends before message_stop as a dropped connection', async () => {
    server.reply((res) => streamPieces(res, [Buffer.from(START)], 0));
    const err = await provider.complete({ model: 'claude-sonnet-4', messages }).catch((e: unknown) => e);
    expect(errorType(err)).toBe('connection_error');
  });

  it('keeps the input count when message_delta reports input fields as null', async () => {
    const body = START + sse('message_delta', { delta: { stop_reason: 'end_turn' }, usage: { input_tokens: null, output_tokens: 4 } }) + sse('message_stop', {});
    server.reply((res) => streamPieces(res, [Buffer.from(body)], 0));
    const result = await provider.complete({ model: 'claude-sonnet-4', messages });
    expect(result.usage).toMatchObject({ inputTokens: 1225, outputTokens: 4 });
    expect(result.text).toBe('');
  });
});
