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

interface Case {
  readonly name: string;
  readonly route: 'openai' | 'anthropic';
  readonly path: string;
  readonly body: Record<string, unknown>;
  readonly streaming: boolean;
  readonly input: number;
  readonly output: number;
}

const CASES: readonly Case[] = [
  { name: 'chat completions', route: 'openai', path: '/v1/chat/completions', body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }, streaming: false, input: MOCK_USAGE.input, output: MOCK_USAGE.output },
  { name: 'chat completions, streamed with include_usage', route: 'openai', path: '/v1/chat/completions', body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true } }, streaming: true, input: MOCK_USAGE.input, output: MOCK_USAGE.output },
  { name: 'responses', route: 'openai', path: '/v1/responses', body: { model: 'gpt-4o-mini', input: 'hi' }, streaming: false, input: MOCK_USAGE.input, output: MOCK_USAGE.output },
  { name: 'responses, streamed', route: 'openai', path: '/v1/responses', body: { model: 'gpt-4o-mini', input: 'hi', stream: true }, streaming: true, input: MOCK_USAGE.input, output: MOCK_USAGE.output },
  { name: 'embeddings', route: 'openai', path: '/v1/embeddings', body: { model: 'text-embedding-3-small', input: 'hi' }, streaming: false, input: 5, output: 0 },
  { name: 'messages', route: 'anthropic', path: '/v1/messages', body: { model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] }, streaming: false, input: MOCK_USAGE.input, output: MOCK_USAGE.output },
  { name: 'messages, streamed', route: 'anthropic', path: '/v1/messages', body: { model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }], stream: true }, streaming: true, input: MOCK_USAGE.input, output: MOCK_USAGE.output },
];

async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; text: string; headers: Headers }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer sk-test-secret-key', ...headers }, body: JSON.stringify(body) });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

describe.each(CASES)('$name', (c) => {
  it('gives the client the same bytes as the upstream, and records usage, cost and time to first token', async () => {
    const direct = await post(`${rig.upstream.url}${c.path}`, c.body);
    const before = rig.sink.ofKind('llm_call').length;
    const via = await post(`${rig.server.url}/${c.route}${c.path}`, c.body);
    expect(via.status).toBe(direct.status);
    expect(via.text).toBe(direct.text);
    expect(via.headers.get('content-type')).toBe(direct.headers.get('content-type'));
    expect(via.headers.get('x-flowmeter-overhead-ms')).toMatch(/^\d+\.\d{3}$/);
    expect(direct.headers.get('x-flowmeter-overhead-ms')).toBeNull();
    await until(() => rig.sink.ofKind('llm_call').length > before, 'the llm_call');
    const call = rig.sink.ofKind('llm_call').at(-1)!;
    expect(call.provider).toBe(c.route);
    expect(call.model).toBe(c.body.model);
    expect(call.input_tokens).toBe(c.input);
    expect(call.output_tokens).toBe(c.output);
    expect(call.streaming).toBe(c.streaming);
    expect(call.error_type).toBeNull();
    // The built-in price table has no embedding models: their cost is unknown, not 0.
    if (c.path.endsWith('/embeddings')) expect(call.cost_usd).toBeNull();
    else expect(call.cost_usd).toBeGreaterThan(0);
    if (c.streaming) expect(call.ttft_ms).toBeGreaterThanOrEqual(0);
    else expect(call.ttft_ms).toBeNull();
  });
});

describe('include_usage', () => {
  const body = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], stream: true };

  it('is asked for upstream and hidden from a client that did not ask, which sees exactly the direct stream', async () => {
    const direct = await post(`${rig.upstream.url}/v1/chat/completions`, body);
    expect(direct.text).not.toContain('"usage"');
    const before = rig.sink.ofKind('llm_call').length;
    const via = await post(`${rig.openaiBase}/chat/completions`, body);
    expect(via.text).toBe(direct.text);
    const sent = JSON.parse(rig.upstream.received.at(-1)!.body) as { stream_options?: { include_usage?: boolean } };
    expect(sent.stream_options?.include_usage).toBe(true);
    await until(() => rig.sink.ofKind('llm_call').length > before, 'the llm_call');
    const call = rig.sink.ofKind('llm_call').at(-1)!;
    expect(call.input_tokens).toBe(MOCK_USAGE.input);
    expect(call.output_tokens).toBe(MOCK_USAGE.output);
    expect(call.ttft_ms).not.toBeNull();
  });

  it('is left alone when the client asked for it', async () => {
    const asked = { ...body, stream_options: { include_usage: true } };
    await post(`${rig.openaiBase}/chat/completions`, asked);
    expect(rig.upstream.received.at(-1)!.body).toBe(JSON.stringify(asked));
  });

  it('is set when the client sent stream_options without it, keeping its other options', async () => {
    const via = await post(`${rig.openaiBase}/chat/completions`, { ...body, stream_options: { include_obfuscation: false } });
    expect(via.text).not.toContain('"usage"');
    const sent = JSON.parse(rig.upstream.received.at(-1)!.body) as { stream_options: Record<string, unknown> };
    expect(sent.stream_options).toEqual({ include_obfuscation: false, include_usage: true });
  });
});

describe('what the upstream receives', () => {
  it('gets the API key, and no x-flowmeter-* header; no record carries the key', async () => {
    const before = rig.sink.events.length;
    await post(`${rig.openaiBase}/chat/completions`, { model: 'gpt-4o-mini', messages: [] }, { 'x-flowmeter-user-id': 'alice', 'x-flowmeter-flow-id': 'support' });
    const got = rig.upstream.received.at(-1)!;
    expect(got.headers.authorization).toBe('Bearer sk-test-secret-key');
    expect(Object.keys(got.headers).filter((h) => h.startsWith('x-flowmeter-'))).toEqual([]);
    await until(() => rig.sink.ofKind('run_finished').length > 0 && rig.sink.events.length > before + 2, 'the run');
    const records = JSON.stringify(rig.sink.events.slice(before));
    expect(records).not.toContain('sk-test-secret-key');
    expect(records).toContain('"user_id":"alice"');
    expect(rig.proxy.renderMetrics('text')).not.toContain('sk-test-secret-key');
  });
});

describe('errors', () => {
  it.each([
    [429, 'rate_limit', 'openai'],
    [500, 'server_error', 'openai'],
    [529, 'server_error', 'anthropic'],
  ] as const)('passes an upstream %i through verbatim and records it as %s', async (status, type, route) => {
    const path = route === 'openai' ? '/v1/chat/completions' : '/v1/messages';
    const body = { model: route === 'openai' ? 'gpt-4o-mini' : 'claude-sonnet-4-5', messages: [], max_tokens: 5 };
    const headers = { 'x-mock-status': String(status) };
    const direct = await post(`${rig.upstream.url}${path}`, body, headers);
    const before = rig.sink.ofKind('llm_call').length;
    const via = await post(`${rig.server.url}/${route}${path}`, body, headers);
    expect(via.status).toBe(status);
    expect(via.text).toBe(direct.text);
    if (status === 429) expect(via.headers.get('retry-after')).toBe('1');
    await until(() => rig.sink.ofKind('llm_call').length > before, 'the llm_call');
    expect(rig.sink.ofKind('llm_call').at(-1)!.error_type).toBe(type);
  });

  it('records unknown usage, not zero, when the provider sends none', async () => {
    const before = rig.sink.ofKind('llm_call').length;
    await post(`${rig.openaiBase}/chat/completions`, { model: 'gpt-4o-mini', messages: [], stream: true }, { 'x-mock-no-usage': '1' });
    await until(() => rig.sink.ofKind('llm_call').length > before, 'the llm_call');
    const call = rig.sink.ofKind('llm_call').at(-1)!;
    expect(call.input_tokens).toBeNull();
    expect(call.output_tokens).toBeNull();
    expect(call.cost_usd).toBeNull();
  });

  it('passes a malformed JSON body to the upstream and its 400 back', async () => {
    const res = await fetch(`${rig.openaiBase}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model": "gpt-4o-mini",' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { type: string } }).error.type).toBe('invalid_request_error');
    expect(rig.upstream.received.at(-1)!.body).toBe('{"model": "gpt-4o-mini",');
  });

  it('answers 404 with the list of upstreams for an unknown name', async () => {
    const res = await fetch(`${rig.server.url}/mistral/v1/chat/completions`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(404);
    const body = (await res.json()) as { error: { message: string } };
    expect(body.error.message).toContain('no upstream named "mistral"');
    expect(body.error.message).toContain('openai, anthropic');
  });

  it('answers 413 for a body over the limit', async () => {
    const small = await startRig({ maxBodyBytes: 1024 });
    try {
      const res = await fetch(`${small.openaiBase}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'x', messages: [{ role: 'user', content: 'a'.repeat(4096) }] }) });
      expect(res.status).toBe(413);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('request_too_large');
      expect(small.upstream.received).toHaveLength(0);
    } finally {
      await small.close();
    }
  });

  it('answers 502 in the provider shape when the upstream is unreachable', async () => {
    const dead = await startRig({ upstreams: ['openai=http://127.0.0.1:9', 'anthropic=http://127.0.0.1:9'] });
    try {
      const res = await fetch(`${dead.anthropicBase}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'claude-sonnet-4-5', messages: [] }) });
      expect(res.status).toBe(502);
      const body = (await res.json()) as { type: string; error: { type: string; message: string } };
      expect(body.type).toBe('error');
      expect(body.error.message).toContain('unreachable');
      await until(() => dead.sink.ofKind('llm_call').length === 1, 'the llm_call');
      expect(dead.sink.ofKind('llm_call')[0]!.error_type).toBe('connection_error');
    } finally {
      await dead.close();
    }
  });
});

describe('pass-through', () => {
  it('forwards other paths unmetered and counts them', async () => {
    const before = rig.sink.ofKind('llm_call').length;
    const direct = await fetch(`${rig.upstream.url}/v1/models`);
    const via = await fetch(`${rig.openaiBase}/models`);
    expect(via.status).toBe(direct.status);
    expect(await via.text()).toBe(await direct.text());
    await rig.meter.flush();
    expect(rig.sink.ofKind('llm_call').length).toBe(before);
    expect(rig.proxy.renderMetrics('text')).toMatch(/flowmeter_proxy_requests_total\{upstream="openai",endpoint="other",code="404"\} [1-9]/);
  });
});

describe('/metrics', () => {
  it('serves the meter\'s metrics and the overhead histogram on the same port', async () => {
    const res = await fetch(`${rig.server.url}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/flowmeter_proxy_overhead_seconds_bucket\{upstream="openai",endpoint="chat_completions",le="0.001"\} [1-9]/);
    expect(text).toContain('flowmeter_llm_request_duration_seconds_count');
    expect(text.match(/^# TYPE flowmeter_label_overflow_total/gm)).toHaveLength(1);
    const health = await fetch(`${rig.server.url}/healthz`);
    expect(((await health.json()) as { status: string }).status).toBe('ok');
  });
});
