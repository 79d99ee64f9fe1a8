import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { startRig, until } from './helpers.js';
import type { Rig } from './helpers.js';

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

const chat = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] };

function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
}

describe('a client that disconnects mid-stream', () => {
  it.each([
    ['openai', '/openai/v1/chat/completions', { ...chat, stream: true }, null],
    ['anthropic', '/anthropic/v1/messages', { model: 'claude-sonnet-4-5', max_tokens: 64, messages: [], stream: true }, 12],
  ] as const)('%s: aborts the upstream request and records the call as partial with what was seen', async (_name, path, body, input) => {
    const r = (rig = await startRig({}, { chunkDelayMs: 30 }));
    await new Promise<void>((resolve, reject) => {
      const req = request(`${r.server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-mock-chunks': '50' } }, (res) => {
        let seen = 0;
        res.on('data', () => {
          // A few events in, the client gives up.
          if (++seen === 3) {
            req.destroy();
            resolve();
          }
        });
        res.on('error', () => undefined);
      });
      req.on('error', () => undefined);
      req.on('close', () => resolve());
      req.end(JSON.stringify(body));
      setTimeout(() => reject(new Error('no data')), 3_000);
    });
    await until(() => r.sink.ofKind('llm_call').length === 1, 'the llm_call');
    const call = r.sink.ofKind('llm_call')[0]!;
    expect(call.error_type).toBe('partial');
    expect(call.input_tokens).toBe(input);
    await until(() => r.upstream.aborted.count === 1, 'the upstream to see the abort');
    await until(() => r.sink.ofKind('run_finished').length === 1, 'the run');
    expect(r.sink.ofKind('run_finished')[0]!.event.outcome).toBe('cancelled');
    expect(r.proxy.renderMetrics('text')).toMatch(/flowmeter_proxy_client_disconnects_total\{upstream="\w+"\} 1/);
  });
});

describe('runs', () => {
  it('makes one run of the calls that share x-flowmeter-run-id, ended by x-flowmeter-run-end', async () => {
    const r = (rig = await startRig());
    const base = { 'x-flowmeter-run-id': 'run-42', 'x-flowmeter-flow-id': 'triage', 'x-flowmeter-agent': 'planner' };
    await (await post(`${r.openaiBase}/chat/completions`, chat, { ...base, 'x-flowmeter-step-id': 'plan' })).text();
    await (await post(`${r.anthropicBase}/v1/messages`, { model: 'claude-sonnet-4-5', max_tokens: 5, messages: [] }, { ...base, 'x-flowmeter-step-id': 'write', 'x-flowmeter-run-end': 'true' })).text();
    await until(() => r.sink.ofKind('run_finished').length === 1, 'the run');
    const event = r.sink.ofKind('run_finished')[0]!.event;
    expect(event.run_id).toBe('run-42');
    expect(event.flow_id).toBe('triage');
    expect(event.llm_calls).toBe(2);
    expect(event.outcome).toBe('success');
    expect(r.sink.ofKind('llm_call').map((c) => [c.run_id, c.step_id, c.agent])).toEqual([
      ['run-42', 'plan', 'planner'],
      ['run-42', 'write', 'planner'],
    ]);
  });

  it('ends a named run after its idle timeout', async () => {
    const r = (rig = await startRig({ runIdleMs: 50 }));
    await (await post(`${r.openaiBase}/chat/completions`, chat, { 'x-flowmeter-run-id': 'idle-run' })).text();
    await until(() => r.sink.ofKind('run_finished').length === 1, 'the idle run to end');
    expect(r.sink.ofKind('run_finished')[0]!.event.run_id).toBe('idle-run');
  });

  it('makes each call without a run id a run of its own, attributed by a key fingerprint', async () => {
    const r = (rig = await startRig());
    await (await post(`${r.openaiBase}/chat/completions`, chat, { authorization: 'Bearer sk-one' })).text();
    await (await post(`${r.openaiBase}/chat/completions`, chat, { authorization: 'Bearer sk-two' })).text();
    await until(() => r.sink.ofKind('run_finished').length === 2, 'two runs');
    const apps = r.sink.ofKind('run_started').map((e) => e.run.app_id);
    expect(apps[0]).toMatch(/^key_[0-9a-f]{12}$/);
    expect(apps[1]).toMatch(/^key_[0-9a-f]{12}$/);
    expect(apps[0]).not.toBe(apps[1]);
  });
});

describe('budgets', () => {
  it('answers 429 in the OpenAI shape with Retry-After once a user spent the window, and records budget_exceeded', async () => {
    const r = (rig = await startRig({ budgets: ['user=* tokens_per_hour<=20'] }));
    const as = (user: string): Record<string, string> => ({ 'x-flowmeter-user-id': user });
    expect((await post(`${r.openaiBase}/chat/completions`, chat, as('alice'))).status).toBe(200);
    await until(() => r.sink.ofKind('run_finished').length === 1, 'the first run');
    expect((await post(`${r.openaiBase}/chat/completions`, chat, as('alice'))).status).toBe(200);
    await until(() => r.sink.ofKind('run_finished').length === 2, 'the second run');
    const refused = await post(`${r.openaiBase}/chat/completions`, chat, as('alice'));
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    const body = (await refused.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('budget_exceeded');
    expect(body.error.message).toContain('tokens_per_hour<=20');
    // Another user has a budget of their own.
    expect((await post(`${r.openaiBase}/chat/completions`, chat, as('bob'))).status).toBe(200);
    await until(() => r.sink.ofKind('run_finished').some((e) => e.event.outcome === 'budget_exceeded'), 'the refused run');
    expect(r.upstream.received).toHaveLength(3);
  });

  it('answers in the Anthropic shape on an Anthropic route, by app', async () => {
    const r = (rig = await startRig({ budgets: ['app=* cost_usd_per_day<=0.00001'] }));
    const msg = { model: 'claude-sonnet-4-5', max_tokens: 5, messages: [] };
    expect((await post(`${r.anthropicBase}/v1/messages`, msg, { 'x-api-key': 'sk-ant-1' })).status).toBe(200);
    await until(() => r.sink.ofKind('run_finished').length === 1, 'the first run');
    const refused = await post(`${r.anthropicBase}/v1/messages`, msg, { 'x-api-key': 'sk-ant-1' });
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as { type: string; error: { type: string } }).error.type).toBe('rate_limit_error');
  });
});

describe('the proxy token', () => {
  it('is required on proxied requests (x-flowmeter-token) and on /metrics (Bearer)', async () => {
    const r = (rig = await startRig({ token: 's3cret' }));
    const denied = await post(`${r.openaiBase}/chat/completions`, chat);
    expect(denied.status).toBe(401);
    expect(((await denied.json()) as { error: { message: string } }).error.message).toContain('x-flowmeter-token');
    expect((await post(`${r.openaiBase}/chat/completions`, chat, { 'x-flowmeter-token': 'wrong' })).status).toBe(401);
    expect((await post(`${r.openaiBase}/chat/completions`, chat, { 'x-flowmeter-token': 's3cret' })).status).toBe(200);
    expect(r.upstream.received.at(-1)!.headers['x-flowmeter-token']).toBeUndefined();
    expect((await fetch(`${r.server.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${r.server.url}/metrics`, { headers: { authorization: 'Bearer s3cret' } })).status).toBe(200);
  });
});

describe('under load', () => {
  it('records every call it forwarded: calls recorded = calls made', async () => {
    const r = (rig = await startRig());
    const total = 400;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < total) {
        const i = next++;
        const res = await post(`${r.openaiBase}/chat/completions`, { ...chat, stream: i % 2 === 0 });
        await res.text();
        expect(res.status).toBe(200);
      }
    };
    await Promise.all(Array.from({ length: 32 }, worker));
    await until(() => r.sink.ofKind('run_finished').length === total, 'every run', 10_000);
    const calls = r.sink.ofKind('llm_call');
    expect(calls).toHaveLength(total);
    expect(calls.every((c) => c.input_tokens === 12 && c.error_type === null)).toBe(true);
    expect(r.meter.diagnostics().dropped_events).toBe(0);
  });
});
