import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { ROOT_CONTEXT, context, trace } from '@opentelemetry/api';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createMeter } from '../../src/meter/index.js';
import type { RunEvent } from '../../src/model/index.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { PRICED_MODEL, PRICES, UNPRICED_MODEL, harness } from './fixtures.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const TRACE_ID = /^[0-9a-f]{32}$/;

/** An LLM call of `input` + `output` tokens at $1/$2 per token (PRICED_MODEL). */
function spend(meter: ReturnType<typeof harness>['meter'], input: number, output: number, model = PRICED_MODEL): Promise<void> {
  return meter.llmCall({ model }, (call) => call.usage({ inputTokens: input, outputTokens: output }));
}

function eventOf(sink: ReturnType<typeof harness>['sink'], flowId: string): RunEvent {
  const found = sink.ofKind('run_finished').filter((f) => f.event.flow_id === flowId);
  expect(found).toHaveLength(1);
  return found[0]!.event;
}

describe('run trees', () => {
  it('makes a run opened inside another its child: parent id, one trace id, and tree totals on the parent', async () => {
    const { meter, sink } = harness();
    await meter.run({ flowId: 'concierge' }, async () => {
      await spend(meter, 1, 1); // $3, 2 tokens
      await meter.run({ flowId: 'worker' }, async () => {
        await spend(meter, 10, 5); // $20, 15 tokens
        await meter.run({ flowId: 'tool-agent' }, () => spend(meter, 100, 0)); // $100, 100 tokens
      });
      await meter.run({ flowId: 'checker' }, () => spend(meter, 0, 50)); // $100, 50 tokens
    });
    const concierge = eventOf(sink, 'concierge');
    const worker = eventOf(sink, 'worker');
    const toolAgent = eventOf(sink, 'tool-agent');
    const checker = eventOf(sink, 'checker');

    expect(concierge.parent_run_id).toBeNull();
    expect(worker.parent_run_id).toBe(concierge.run_id);
    expect(checker.parent_run_id).toBe(concierge.run_id);
    expect(toolAgent.parent_run_id).toBe(worker.run_id);
    expect(concierge.trace_id).toMatch(TRACE_ID);
    for (const e of [worker, toolAgent, checker]) expect(e.trace_id).toBe(concierge.trace_id);

    // Own totals stay the run's own; tree totals add everything below.
    expect(concierge.cost_usd).toBe(3);
    expect(concierge.total_tokens).toBe(2);
    expect(concierge.child_runs).toBe(3);
    expect(concierge.tree_cost_usd).toBe(223);
    expect(concierge.tree_total_tokens).toBe(167);
    expect(worker.child_runs).toBe(1);
    expect(worker.tree_cost_usd).toBe(120);
    expect(worker.tree_total_tokens).toBe(115);
    expect(toolAgent.child_runs).toBe(0);
    expect(toolAgent.tree_cost_usd).toBe(100);

    const summary = sink.ofKind('run_finished').find((f) => f.event.flow_id === 'concierge')!.summary;
    expect(summary).toContain('| tree: 3 child runs, tokens 167, cost $223');
    expect(sink.ofKind('run_finished').find((f) => f.event.flow_id === 'tool-agent')!.summary).not.toContain('tree:');
  });

  it('keeps concurrent sibling runs apart and sums them all', async () => {
    const { meter, sink } = harness();
    await meter.run({ flowId: 'fan-out' }, () =>
      Promise.all([1, 2, 3, 4].map((n) => meter.run({ flowId: `leaf-${n}` }, async () => {
        await new Promise((resolve) => setTimeout(resolve, 5 * (5 - n)));
        await spend(meter, n, 0);
      }))),
    );
    const root = eventOf(sink, 'fan-out');
    expect(root.child_runs).toBe(4);
    expect(root.tree_cost_usd).toBe(10);
    for (const n of [1, 2, 3, 4]) {
      const leaf = eventOf(sink, `leaf-${n}`);
      expect(leaf.parent_run_id).toBe(root.run_id);
      expect(leaf.cost_usd).toBe(n);
    }
  });

  it('leaves the tree cost unknown when a run below could not say its cost, and counts a failed child', async () => {
    const { meter, sink } = harness();
    await meter.run({ flowId: 'parent' }, async () => {
      await spend(meter, 1, 0);
      await meter.run({ flowId: 'unpriced' }, () => spend(meter, 7, 3, UNPRICED_MODEL));
      await meter.run({ flowId: 'failing' }, () => Promise.reject(new Error('boom'))).catch(() => undefined);
    });
    const parent = eventOf(sink, 'parent');
    expect(parent.cost_usd).toBe(1);
    expect(parent.tree_cost_usd).toBeNull();
    expect(parent.tree_total_tokens).toBe(11);
    expect(parent.child_runs).toBe(2);
    expect(eventOf(sink, 'failing').parent_run_id).toBe(parent.run_id);
  });

  it('does not count a child that outlives its parent, and the child still names its parent', async () => {
    const { meter, sink } = harness();
    let release!: () => void;
    let late!: Promise<void>;
    await meter.run({ flowId: 'short' }, () => {
      late = meter.run({ flowId: 'long' }, () => new Promise<void>((resolve) => (release = resolve)));
    });
    release();
    await late;
    expect(eventOf(sink, 'short').child_runs).toBe(0);
    expect(eventOf(sink, 'long').parent_run_id).toBe(eventOf(sink, 'short').run_id);
  });

  it('links runs across processes with parentRunId and traceId, and drops a trace id that is not one', async () => {
    const { meter, sink, warnings } = harness();
    const traceId = 'ab'.repeat(16);
    await meter.run({ flowId: 'remote-worker', parentRunId: 'concierge-run-7', traceId }, () => undefined);
    const worker = eventOf(sink, 'remote-worker');
    expect(worker.parent_run_id).toBe('concierge-run-7');
    expect(worker.trace_id).toBe(traceId);

    await meter.run({ flowId: 'bad-trace', traceId: 'not-a-trace' }, () => undefined);
    const bad = eventOf(sink, 'bad-trace');
    expect(bad.trace_id).toMatch(TRACE_ID);
    expect(bad.trace_id).not.toBe('not-a-trace');
    expect(meter.diagnostics().dropped_values).toMatchObject({ 'trace_id:not_a_trace_id': 1 });
    expect(warnings.some((w) => w.message.includes('trace_id'))).toBe(true);
  });

  it('gives separate roots separate trace ids', async () => {
    const { meter, sink } = harness();
    await meter.run({ flowId: 'a' }, () => undefined);
    await meter.run({ flowId: 'b' }, () => undefined);
    expect(eventOf(sink, 'a').trace_id).not.toBe(eventOf(sink, 'b').trace_id);
  });

  describe('inside an OpenTelemetry span', () => {
    const manager = new AsyncLocalStorageContextManager().enable();
    context.setGlobalContextManager(manager);
    afterAll(() => {
      context.disable();
    });

    it("joins the active span's trace", async () => {
      const { meter, sink } = harness();
      const traceId = '0af7651916cd43dd8448eb211c80319c';
      const active = trace.setSpanContext(ROOT_CONTEXT, { traceId, spanId: 'b7ad6b7169203331', traceFlags: 1 });
      await context.with(active, () => meter.run({ flowId: 'in-span' }, () => undefined));
      expect(eventOf(sink, 'in-span').trace_id).toBe(traceId);
    });
  });
});

describe('run trees in the tiers', () => {
  it('writes parent_run_id and trace_id to run.json, metrics.jsonl, the log line and the store, and the store lists children', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flowmeter-trees-'));
    dirs.push(dir);
    const logPath = join(dir, 'runs.log');
    const meter = createMeter({ runsDir: join(dir, 'runs'), store: { path: join(dir, 'flowmeter.db') }, log: { format: 'json', destination: logPath }, env: {}, prices: PRICES });
    let parentId = '';
    let childId = '';
    await meter.run({ flowId: 'parent' }, async (run) => {
      parentId = run.id;
      await meter.run({ flowId: 'child' }, async (child) => {
        childId = child.id;
        await spend(meter, 2, 2);
      });
    });
    await meter.close();

    const childJson = JSON.parse(readFileSync(join(dir, 'runs', childId, 'run.json'), 'utf8')) as RunEvent;
    const parentJson = JSON.parse(readFileSync(join(dir, 'runs', parentId, 'run.json'), 'utf8')) as RunEvent;
    expect(childJson.parent_run_id).toBe(parentId);
    expect(childJson.trace_id).toBe(parentJson.trace_id);
    expect(parentJson.tree_cost_usd).toBe(6);

    const metricsLines = readFileSync(join(dir, 'runs', childId, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const runLine = metricsLines.find((l) => l.event === 'llm_call');
    expect(runLine).toMatchObject({ parent_run_id: parentId, trace_id: parentJson.trace_id });

    const logRecords = readFileSync(logPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(logRecords.find((r) => r.run_id === childId && r.type === 'flowmeter.run_event.v1')).toMatchObject({ parent_run_id: parentId, trace_id: parentJson.trace_id });

    const store = SqliteStore.open(join(dir, 'flowmeter.db'));
    try {
      const detail = await store.run(parentId);
      expect(detail?.run.trace_id).toBe(parentJson.trace_id);
      expect(detail?.children.map((c) => c.run_id)).toEqual([childId]);
      expect(detail?.children[0]?.parent_run_id).toBe(parentId);
    } finally {
      await store.close();
    }
  });
});
