import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMeter } from '../../src/meter/index.js';
import type { RunEvent } from '../../src/model/index.js';
import { InMemorySink } from '../../src/sinks/index.js';
import { PRICED_MODEL, PRICES } from '../meter/fixtures.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const cli = fileURLToPath(new URL('./fixtures/cli.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'flowmeter-mcp-'));
const db = join(dir, 'flowmeter.db');
const runsDir = join(dir, 'runs');

/** Durations of the `search` tool calls, one per run, in the order the runs were made. */
const TOOL_MS = [5, 40, 10, 80, 20, 60];
let events: RunEvent[] = [];
/** The tool calls as the meter measured them (timers overshoot on a loaded machine: the order is the measured one). */
let toolCalls: { run_id: string; duration_ms: number }[] = [];

beforeAll(async () => {
  const sink = new InMemorySink();
  const meter = createMeter({ runsDir, store: { path: db }, log: false, env: {}, prices: PRICES, sinks: [sink] });
  for (const [i, ms] of TOOL_MS.entries()) {
    await meter
      .run({ flowId: i % 2 === 0 ? 'support' : 'billing', agent: 'helper' }, async () => {
        await meter.llmCall({ model: PRICED_MODEL, provider: 'openai' }, (call) => call.usage({ inputTokens: 10 * (i + 1), outputTokens: i + 1 }));
        await meter.toolCall('search', () => new Promise((resolve) => setTimeout(resolve, ms)));
        if (i === 3) throw new Error('billing failed');
      })
      .catch(() => undefined);
  }
  await meter.close();
  events = sink.ofKind('run_finished').map((f) => f.event);
  toolCalls = sink.ofKind('tool_call').map((t) => ({ run_id: t.run_id, duration_ms: t.duration_ms }));
}, 30_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function connect(args: string[]): Promise<Client> {
  const client = new Client({ name: 'flowmeter-test', version: '1.0.0' });
  await client.connect(new StdioClientTransport({ command: process.execPath, args: ['--import', 'tsx', cli, 'mcp', ...args], cwd: root, stderr: 'pipe' }));
  return client;
}

type Json = Record<string, unknown>;

async function call(client: Client, name: string, args: Json = {}): Promise<{ value: Json; isError: boolean; text: string }> {
  const result = await client.callTool({ name, arguments: args });
  const content = result.content as { type: string; text: string }[];
  const text = content[0]?.text ?? '';
  return { value: (result.structuredContent ?? {}) as Json, isError: result.isError === true, text };
}

describe.each([
  ['the store', () => ['--db', db]],
  ['a runs folder', () => ['--runs-dir', runsDir]],
])('flowmeter mcp over %s', (_name, args) => {
  let client: Client;
  beforeAll(async () => {
    client = await connect(args());
  }, 30_000);
  afterAll(async () => {
    await client.close();
  });

  it('offers the four tools', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['get_run', 'list_runs', 'run_stats', 'slowest_calls']);
  });

  it('list_runs: newest first, filtered', async () => {
    const all = (await call(client, 'list_runs')).value.runs as Json[];
    expect(all.map((r) => r.run_id)).toEqual(events.map((e) => e.run_id).reverse());
    const failed = (await call(client, 'list_runs', { outcome: 'tool_error' })).value.runs as Json[];
    expect(failed.map((r) => r.run_id)).toEqual([events[3]!.run_id]);
    const billing = (await call(client, 'list_runs', { flow: 'billing', limit: 2 })).value;
    expect((billing.runs as Json[]).map((r) => r.run_id)).toEqual([events[5]!.run_id, events[3]!.run_id]);
    expect(billing.next_cursor).not.toBeNull();
    const next = (await call(client, 'list_runs', { flow: 'billing', limit: 2, cursor: billing.next_cursor })).value.runs as Json[];
    expect(next.map((r) => r.run_id)).toEqual([events[1]!.run_id]);
  });

  it('get_run: the run as recorded, its calls and summary', async () => {
    const e = events[2]!;
    const { value } = await call(client, 'get_run', { run_id: e.run_id });
    const run = value.run as Json;
    expect(run).toMatchObject({ run_id: e.run_id, flow_id: 'support', outcome: 'success', cost_usd: e.cost_usd, total_tokens: e.total_tokens, llm_calls: 1, tool_calls: 1 });
    expect(run.summary).toMatch(/^Execution time: /);
    const calls = value.calls as Json[];
    expect(calls.map((c) => [c.kind, c.name])).toEqual([['llm', PRICED_MODEL], ['tool', 'search']]);
    expect(calls[0]).toMatchObject({ input_tokens: 30, output_tokens: 3 });
    expect(calls[1]!.duration_ms).toBeGreaterThanOrEqual(TOOL_MS[2]! - 1);
  });

  it('run_stats: percentiles within 1% of the exact values, outcomes, by flow', async () => {
    const { value } = await call(client, 'run_stats', { by: 'flow' });
    const groups = value.groups as Json[];
    const support = groups.find((g) => g.group === 'support')!;
    const billing = groups.find((g) => g.group === 'billing')!;
    expect(support.runs).toBe(3);
    expect(billing.runs).toBe(3);
    expect(billing.outcomes).toMatchObject({ 'tool_error|partial=0': 1 });
    // Cost per run of support runs (i = 0, 2, 4): exact values from the RunEvents, at the
    // sketch's rank rule (the lower neighbour at rank q·(n−1)).
    const costs = [events[0]!, events[2]!, events[4]!].map((e) => e.cost_usd!).sort((a, b) => a - b);
    const exact = (q: number): number => costs[Math.floor(q * (costs.length - 1))]!;
    const p = support.cost_per_run_usd as { p50: number; p95: number; p99: number };
    for (const [q, got] of [[0.5, p.p50], [0.95, p.p95], [0.99, p.p99]] as const) expect(Math.abs(got - exact(q)) / exact(q)).toBeLessThanOrEqual(0.01);
    expect(costs).toEqual([12, 36, 60]);
  });

  it('slowest_calls: slowest first', async () => {
    const { value } = await call(client, 'slowest_calls', { kind: 'tool', limit: 3 });
    const calls = value.calls as Json[];
    const slowest = [...toolCalls].sort((a, b) => b.duration_ms - a.duration_ms).slice(0, 3);
    expect(calls.map((c) => c.run_id)).toEqual(slowest.map((t) => t.run_id));
    expect(calls.map((c) => c.duration_ms)).toEqual(slowest.map((t) => t.duration_ms));
    const durations = calls.map((c) => c.duration_ms as number);
    expect([...durations].sort((a, b) => b - a)).toEqual(durations);
  });

  it('refuses an unknown run and a bad window with a reason, and goes on', async () => {
    const unknown = await call(client, 'get_run', { run_id: 'no-such-run' });
    expect(unknown.isError).toBe(true);
    expect(unknown.text).toContain('no run "no-such-run"');
    const bad = await call(client, 'run_stats', { since: 'yesterday-ish' });
    expect(bad.isError).toBe(true);
    expect(bad.text).toContain('since: "yesterday-ish" is neither a duration');
    const outOfRange = await call(client, 'list_runs', { limit: 100_000 });
    expect(outOfRange.isError).toBe(true);
    // The server is still there.
    expect((await call(client, 'list_runs', { limit: 1 })).isError).toBe(false);
  });
});
