import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorType, outcomeOfError } from '../../../src/meter/errors.js';
import type { Provider } from '../../../src/runtime/providers/index.js';
import { AnthropicProvider, OpenAIProvider, ProviderError } from '../../../src/runtime/providers/index.js';
import type { WireServer } from './wire-server.js';
import { json, pause, refusedUrl, startWireServer, streamPieces } from './wire-server.js';

/** The first event of each wire format that carries answer text, so a test can stop there. */
const FIRST_TEXT = {
  openai: `data: ${JSON.stringify({ model: 'm', choices: [{ index: 0, delta: { content: 'Hel' }, finish_reason: null }] })}\n\n`,
  anthropic: `event: content_block_delta\ndata: ${JSON.stringify({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hel' } })}\n\n`,
};

type Make = (baseUrl: string, timeoutMs?: number) => Provider;
const cases: [keyof typeof FIRST_TEXT, Make, (status: number, message: string) => unknown][] = [
  ['openai', (baseUrl, timeoutMs) => new OpenAIProvider({ apiKey: 'k', baseUrl, timeoutMs }, {}), (_status, message) => ({ error: { message, type: 'requests', code: 'rate_limit_exceeded' } })],
  ['anthropic', (baseUrl, timeoutMs) => new AnthropicProvider({ apiKey: 'k', baseUrl, timeoutMs }, {}), (_status, message) => ({ type: 'error', error: { type: 'rate_limit_error', message } })],
];

const request = { model: 'm', messages: [{ role: 'user', content: 'hi' }] } as const;

describe.each(cases)('%s transport failures', (name, make, errorBody) => {
  let server: WireServer;
  let provider: Provider;
  beforeAll(async () => {
    server = await startWireServer();
    provider = make(server.url);
  });
  afterAll(() => server.close());

  it('turns a 429 with Retry-After into a rate_limit ProviderError with the API message', async () => {
    server.reply((res) => json(res, 429, errorBody(429, 'Rate limit reached for requests'), { 'retry-after': '2' }));
    const err = await provider.complete(request).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({ status: 429, retryAfterSeconds: 2 });
    expect((err as Error).message).toBe(`${name} 429: Rate limit reached for requests`);
    expect(errorType(err)).toBe('rate_limit');
  });

  it('prefers OpenAI-style retry-after-ms and reads an HTTP-date Retry-After', async () => {
    server.reply((res) => json(res, 429, errorBody(429, 'slow down'), { 'retry-after-ms': '1500', 'retry-after': '2' }));
    await expect(provider.complete(request)).rejects.toMatchObject({ retryAfterSeconds: 1.5 });
    server.reply((res) => json(res, 503, errorBody(503, 'busy'), { 'retry-after': new Date(Date.now() + 30_000).toUTCString() }));
    const err = (await provider.complete(request).catch((e: unknown) => e)) as ProviderError;
    expect(err.retryAfterSeconds).toBeGreaterThan(27);
    expect(err.retryAfterSeconds).toBeLessThanOrEqual(30);
  });

  it('classifies a 500 as server_error, quoting a body that is not JSON', async () => {
    server.reply((res) => {
      res.writeHead(500, { 'content-type': 'text/html' }).end('<h1>Internal Server Error</h1>');
    });
    const err = await provider.complete(request).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 500, message: `${name} 500: <h1>Internal Server Error</h1>` });
    expect(errorType(err)).toBe('server_error');
  });

  it('classifies a 400 as invalid_request', async () => {
    server.reply((res) => json(res, 400, errorBody(400, 'max_tokens is too large')));
    const err = await provider.complete(request).catch((e: unknown) => e);
    expect(errorType(err)).toBe('invalid_request');
    expect(outcomeOfError(err, 'llm')).toBe('invalid_request');
  });

  it('reports a refused connection as connection_error with its socket code', async () => {
    const refused = make(await refusedUrl());
    const err = await refused.complete(request).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'ProviderError', code: 'ECONNREFUSED' });
    expect(errorType(err)).toBe('connection_error');
  });

  it('rejects with an AbortError when the caller aborts mid-stream', async () => {
    server.reply((res) => streamPieces(res, [Buffer.from(FIRST_TEXT[name])], 0, { hang: true }));
    const controller = new AbortController();
    const err = await provider.complete({ ...request, signal: controller.signal, onFirstToken: () => controller.abort() }).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'AbortError' });
    expect(outcomeOfError(err, 'llm')).toBe('cancelled');
  });

  it('rejects at once, without a request, when the signal is already aborted', async () => {
    const before = server.requests.length;
    await expect(provider.complete({ ...request, signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
    await pause(10);
    expect(server.requests.length).toBe(before);
  });

  it('times out a stalled stream after timeoutMs as a timeout', async () => {
    server.reply((res) => streamPieces(res, [Buffer.from(FIRST_TEXT[name])], 0, { hang: true }));
    const impatient = make(server.url, 80);
    const started = performance.now();
    const err = await impatient.complete(request).catch((e: unknown) => e);
    expect(performance.now() - started).toBeGreaterThanOrEqual(75);
    expect(err).toMatchObject({ name: 'ProviderError', code: 'ETIMEDOUT' });
    expect(errorType(err)).toBe('timeout');
  });
});
