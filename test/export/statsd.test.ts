import { createSocket } from 'node:dgram';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { StatsdExporterOptions } from '../../src/export/statsd.js';
import { StatsdExporter, tagValue } from '../../src/export/statsd.js';
import type { StepFinished, TokensRecorded } from '../../src/model/index.js';
import { llmCall, retry, runFinished, runStarted, toolCall } from '../sinks/fixtures.js';

/** One parsed DogStatsD line: `name:value|type|#tag:v,tag:v`. */
interface Line {
  readonly raw: string;
  readonly name: string;
  readonly value: number;
  readonly type: string;
  readonly tags: Record<string, string>;
}

function parse(raw: string): Line {
  const [head = '', type = '', ...rest] = raw.split('|');
  const colon = head.lastIndexOf(':');
  const tags: Record<string, string> = {};
  const tagField = rest.find((field) => field.startsWith('#'));
  for (const tag of tagField?.slice(1).split(',') ?? []) {
    const at = tag.indexOf(':');
    tags[at < 0 ? tag : tag.slice(0, at)] = at < 0 ? '' : tag.slice(at + 1);
  }
  return { raw, name: head.slice(0, colon), value: Number(head.slice(colon + 1)), type, tags };
}

interface Agent {
  readonly port: number;
  readonly lines: Line[];
  close(): Promise<void>;
}

/** A DogStatsD agent stand-in: a UDP socket that keeps every line it receives. */
async function startAgent(): Promise<Agent> {
  const socket = createSocket('udp4');
  const lines: Line[] = [];
  socket.on('message', (packet) => {
    for (const raw of packet.toString('utf8').split('\n')) if (raw !== '') lines.push(parse(raw));
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    port: socket.address().port,
    lines,
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function setup(options: StatsdExporterOptions = {}) {
  const agent = await startAgent();
  const onError = vi.fn();
  const exporter = new StatsdExporter({ host: '127.0.0.1', port: agent.port, env: {}, onError, ...options });
  cleanup.push(() => agent.close(), () => exporter.close());
  /** Flushes, then waits until the agent holds `count` lines named `name`. */
  const received = async (name: string, count = 1): Promise<Line[]> => {
    await exporter.flush();
    await vi.waitFor(() => expect(agent.lines.filter((l) => l.name === name)).toHaveLength(count), { timeout: 2000 });
    return agent.lines.filter((l) => l.name === name);
  };
  return { agent, exporter, onError, received };
}

describe('StatsdExporter', () => {
  it('sends an LLM call as a millisecond timing tagged with provider, model and phase', async () => {
    const { exporter, received } = await setup();
    exporter.write([llmCall({ provider: 'openai', model: 'gpt-4o', duration_ms: 123 })]);
    const [line] = await received('flowmeter.llm.request.duration');
    expect(line!.raw).toMatch(/^flowmeter\.llm\.request\.duration:123\|ms\|#provider:openai,model:gpt-4o,phase:initial,/);
    expect(line!.tags).toEqual({ provider: 'openai', model: 'gpt-4o', phase: 'initial', flow: 'backup', agent: 'commis' });
  });

  it('adds error_type to the timing of a failed call', async () => {
    const { exporter, received } = await setup();
    exporter.write([llmCall({ error_type: 'rate_limit' })]);
    const [line] = await received('flowmeter.llm.request.duration');
    expect(line!.tags['error_type']).toBe('rate_limit');
  });

  it('counts tokens by direction and sends cost and time to first token', async () => {
    const { exporter, received } = await setup();
    exporter.write([llmCall({ input_tokens: 1234, output_tokens: 89, cost_usd: 0.0023, streaming: true, ttft_ms: 42 })]);
    const tokens = await received('flowmeter.llm.tokens', 2);
    expect(tokens.map((l) => [l.tags['direction'], l.value, l.type])).toEqual([
      ['in', 1234, 'c'],
      ['out', 89, 'c'],
    ]);
    const [cost] = await received('flowmeter.llm.cost_usd');
    expect([cost!.value, cost!.type]).toEqual([0.0023, 'd']);
    const [ttft] = await received('flowmeter.llm.time_to_first_token');
    expect([ttft!.value, ttft!.type]).toEqual([42, 'ms']);
  });

  it('leaves out what was not measured: no zero tokens, no unknown cost, no ttft for unstreamed calls', async () => {
    const { agent, exporter, received } = await setup();
    exporter.write([llmCall({ input_tokens: null, output_tokens: null, cost_usd: null, streaming: false })]);
    await received('flowmeter.llm.request.duration');
    expect(agent.lines.map((l) => l.name)).toEqual(['flowmeter.llm.request.duration']);
  });

  it('counts tokens spent outside a call in the same llm.tokens metric', async () => {
    const { exporter, received } = await setup();
    const tokens: TokensRecorded = {
      kind: 'tokens', run_id: 'run-1', flow_id: 'backup', agent: 'commis', step_id: null,
      model: 'gpt-5-mini', direction: 'out', count: 321, cost_usd: null, ts: '2025-12-15T04:08:08.400Z',
    };
    exporter.write([tokens]);
    const [line] = await received('flowmeter.llm.tokens');
    expect([line!.value, line!.tags['direction'], line!.tags['model']]).toEqual([321, 'out', 'gpt-5-mini']);
  });

  it('times tool calls and steps with success, never with the tool error message', async () => {
    const { exporter, received } = await setup();
    const step: StepFinished = {
      kind: 'step_finished', run_id: 'run-1', flow_id: 'backup', step_id: 'plan', agent: 'commis', model: null,
      exec_mode: 'live', start_ts: '2025-12-15T04:08:08.000Z', end_ts: '2025-12-15T04:08:09.500Z', duration_ms: 1500,
      success: false, error: 'TimeoutError',
    };
    exporter.write([toolCall(), toolCall({ success: false, error: 'connect ECONNREFUSED 10.0.0.7:22', duration_ms: 7 }), step]);
    const tools = await received('flowmeter.tool.duration', 2);
    expect(tools.map((l) => [l.value, l.tags['success']])).toEqual([
      [1111, 'true'],
      [7, 'false'],
    ]);
    expect(tools[1]!.tags).toEqual({ tool: 'ssh_exec', flow: 'backup', agent: 'commis', success: 'false' });
    const [stepLine] = await received('flowmeter.step.duration');
    expect(stepLine!.tags).toEqual({ flow: 'backup', step: 'plan', agent: 'commis', success: 'false', error_type: 'TimeoutError' });
  });

  it('counts retries by reason', async () => {
    const { exporter, received } = await setup();
    exporter.write([retry({ reason: 'rate_limit' }), retry({ reason: 'timeout', attempt: 2 })]);
    const lines = await received('flowmeter.retries', 2);
    expect(lines.map((l) => [l.raw.split('|#')[0], l.tags['reason']])).toEqual([
      ['flowmeter.retries:1|c', 'rate_limit'],
      ['flowmeter.retries:1|c', 'timeout'],
    ]);
  });

  it('sends a finished run as a count by outcome and distributions of seconds, cost and tokens', async () => {
    const { agent, exporter, received } = await setup();
    exporter.write([
      runStarted(),
      runFinished('run-1', { elapsed_seconds: 0.098, cost_usd: 0.0023, total_tokens: 1323 }),
      runFinished('run-2', { outcome: 'budget_exceeded', success: false, cost_usd: null, total_tokens: null }),
    ]);
    const runs = await received('flowmeter.runs', 2);
    expect(runs.map((l) => [l.value, l.type, l.tags['outcome'], l.tags['flow'], l.tags['agent']])).toEqual([
      [1, 'c', 'success', 'backup', 'commis'],
      [1, 'c', 'budget_exceeded', 'backup', 'commis'],
    ]);
    const elapsed = await received('flowmeter.run.elapsed_seconds', 2);
    expect(elapsed.map((l) => [l.value, l.type])).toEqual([
      [0.098, 'd'],
      [0.098, 'd'],
    ]);
    expect((await received('flowmeter.run.cost_usd')).map((l) => l.value)).toEqual([0.0023]);
    expect((await received('flowmeter.run.total_tokens')).map((l) => l.value)).toEqual([1323]);
    expect(agent.lines.filter((l) => l.name === 'flowmeter.run.cost_usd')).toHaveLength(1);
  });

  it('never puts run, task, user or session ids in a tag', async () => {
    const { agent, exporter, received } = await setup();
    exporter.write([
      llmCall({ run_id: 'run-secret' }),
      toolCall({ run_id: 'run-secret' }),
      retry({ run_id: 'run-secret' }),
      runFinished('run-secret', { task_id: 'task-9', user_id: 'ada@example.com', session_id: 'sess-7' }),
    ]);
    await received('flowmeter.runs');
    expect(agent.lines.length).toBeGreaterThan(5);
    for (const line of agent.lines) {
      expect(line.raw).not.toMatch(/secret|task-9|ada|sess-7|run_id|user|session/);
    }
  });

  it('sanitizes tag values so they cannot break the line', async () => {
    const { exporter, received } = await setup();
    exporter.write([llmCall({ model: 'acme|evil,model#x\nnext (é)', phase: '' })]);
    const [line] = await received('flowmeter.llm.request.duration');
    expect(line!.tags['model']).toBe('acme_evil_model_x_next____');
    expect(line!.tags['phase']).toBe('none');
    expect(tagValue('x'.repeat(300))).toHaveLength(200);
  });

  it('applies the prefix and global tags options', async () => {
    const { exporter, received } = await setup({ prefix: 'agents.', globalTags: { env: 'prod', 'team name': 'ops' } });
    exporter.write([retry()]);
    const [line] = await received('agents.retries');
    expect(line!.tags).toMatchObject({ env: 'prod', team_name: 'ops', reason: 'rate_limit' });
  });

  it('finds the agent through DD_AGENT_HOST and DD_DOGSTATSD_PORT', async () => {
    const agent = await startAgent();
    const exporter = new StatsdExporter({ env: { DD_AGENT_HOST: '127.0.0.1', DD_DOGSTATSD_PORT: String(agent.port) } });
    cleanup.push(() => agent.close(), () => exporter.close());
    expect([exporter.host, exporter.port]).toEqual(['127.0.0.1', agent.port]);
    exporter.write([retry()]);
    await exporter.flush();
    await vi.waitFor(() => expect(agent.lines.map((l) => l.name)).toContain('flowmeter.retries'), { timeout: 2000 });
  });

  it('defaults to 127.0.0.1:8125 and refuses a port that cannot be one', () => {
    const exporter = new StatsdExporter({ env: {} });
    cleanup.push(() => exporter.close());
    expect([exporter.host, exporter.port]).toEqual(['127.0.0.1', 8125]);
    expect(() => new StatsdExporter({ port: 70000, env: {} })).toThrow(/port/);
  });
});

describe('StatsdExporter when the agent is not there', () => {
  it('does not throw when nobody listens on the port', async () => {
    const agent = await startAgent();
    const port = agent.port;
    await agent.close();
    const onError = vi.fn();
    const exporter = new StatsdExporter({ host: '127.0.0.1', port, env: {}, onError });
    for (let i = 0; i < 3; i++) {
      expect(() => exporter.write([llmCall(), toolCall(), runFinished()])).not.toThrow();
      await exporter.flush();
    }
    await expect(exporter.close()).resolves.toBeUndefined();
  });

  it('reports a host that does not resolve to onError', async () => {
    const onError = vi.fn();
    const exporter = new StatsdExporter({ host: 'no-such-agent.invalid', port: 8125, env: {}, onError });
    expect(() => exporter.write([llmCall()])).not.toThrow();
    await exporter.flush();
    await vi.waitFor(() => expect(onError).toHaveBeenCalled(), { timeout: 5000 });
    await exporter.close();
  });

  it('closes twice without harm and reports writes after close', async () => {
    const { exporter, onError } = await setup();
    const first = exporter.close();
    expect(exporter.close()).toBe(first);
    await first;
    exporter.write([llmCall()]);
    expect(onError).toHaveBeenCalledTimes(1);
    await expect(exporter.flush()).resolves.toBeUndefined();
  });
});
