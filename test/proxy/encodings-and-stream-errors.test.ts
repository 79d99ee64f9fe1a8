import { request } from 'node:http';
import { gunzipSync } from 'node:zlib';
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

/** A raw HTTP POST (no client-side decompression), answering the status, headers and body bytes. */
function rawPost(url: string, body: unknown, headers: Record<string, string>): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; bytes: Buffer }> {
  return new Promise((resolve, reject) => {
    const text = JSON.stringify(body);
    const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), authorization: 'Bearer sk-test-secret-key', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, bytes: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(text);
  });
}

describe('a gzip-encoded upstream answer', () => {
  it.each([
    ['openai', '/v1/chat/completions', { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }],
    ['anthropic', '/v1/messages', { model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] }],
  ] as const)('reaches the %s client compressed and byte for byte, and its usage is read from the decompressed body', async (route, path, body) => {
    const headers = { 'accept-encoding': 'gzip', 'x-mock-gzip': '1' };
    const direct = await rawPost(`${rig.upstream.url}${path}`, body, headers);
    const before = rig.sink.ofKind('llm_call').length;
    const via = await rawPost(`${rig.server.url}/${route}${path}`, body, headers);
    expect(via.status).toBe(200);
    expect(via.headers['content-encoding']).toBe('gzip');
    expect(via.bytes.equals(direct.bytes)).toBe(true);
    expect(JSON.parse(gunzipSync(via.bytes).toString('utf8'))).toMatchObject({ model: body.model });
    await until(() => rig.sink.ofKind('llm_call').length > before, 'the llm_call');
    const call = rig.sink.ofKind('llm_call').at(-1)!;
    expect(call.input_tokens).toBe(MOCK_USAGE.input);
    expect(call.output_tokens).toBe(MOCK_USAGE.output);
    expect(call.error_type).toBeNull();
  });
});

describe('an error event inside a 200 stream', () => {
  it.each([
    ['openai', '/v1/chat/completions', { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true } }, 'server_error'],
    ['anthropic', '/v1/messages', { model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }], stream: true }, 'overloaded_error'],
  ] as const)('reaches the %s client unchanged and records a failed call with the provider error type', async (route, path, body, type) => {
    const headers = { 'x-mock-stream-error': '1' };
    const direct = await rawPost(`${rig.upstream.url}${path}`, body, headers);
    const before = rig.sink.ofKind('llm_call').length;
    const via = await rawPost(`${rig.server.url}/${route}${path}`, body, headers);
    expect(via.status).toBe(200);
    expect(via.bytes.toString('utf8')).toBe(direct.bytes.toString('utf8'));
    expect(via.bytes.toString('utf8')).toContain(type);
    await until(() => rig.sink.ofKind('llm_call').length > before, 'the llm_call');
    const call = rig.sink.ofKind('llm_call').at(-1)!;
    expect(call.streaming).toBe(true);
    expect(call.ttft_ms).toBeGreaterThanOrEqual(0);
    expect(call.error_type).toBe(type);
    await until(() => rig.sink.ofKind('run_finished').some((e) => e.run.run_id === call.run_id), 'the run_finished');
    const run = rig.sink.ofKind('run_finished').find((e) => e.run.run_id === call.run_id)!.event;
    expect(run.outcome).toBe('provider_error');
    if (route === 'anthropic') {
      // message_start reported the input tokens and one output token before the error.
      expect([call.input_tokens, call.output_tokens]).toEqual([MOCK_USAGE.input, 1]);
      expect([run.input_tokens, run.output_tokens]).toEqual([MOCK_USAGE.input, 1]);
      expect(run.cost_usd).toBeGreaterThan(0);
    } else {
      // Content reached the client and no usage came: unknown, never 0.
      expect(call.input_tokens).toBeNull();
      expect(run.total_tokens).toBeNull();
      expect(run.cost_usd).toBeNull();
    }
  });
});
