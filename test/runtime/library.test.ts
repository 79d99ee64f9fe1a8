/**
 * The runtime as a library (`flowmeter/runtime`): compile, validate and run a workflow with
 * your own meter, provider, tools and memory — what `flowmeter run` does, from code.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createMeter } from '../../src/index.js';
import { InMemorySink } from '../../src/sinks/sink.js';
import { LlmCallCollector, LongTermMemory, SimulatedProvider, ToolRegistry, apxmMetrics, compilePlan, createRunMemory, runWorkflow, validatePlan } from '../../src/runtime/index.js';

const root = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'flowmeter-runtime-lib-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SOURCE = `agent Support {
  capability lookup(order: str) -> str;
  tools: [lookup]
  @entry flow main(order: str) -> str {
    lookup(order) -> status
    umem(status, "ltm")
    ask("Tell the customer the order status", status) -> reply
    return reply
  }
}
`;

describe('flowmeter/runtime', () => {
  it('compiles, validates and runs a workflow with user tools, memory and a meter', async () => {
    const { plan, diagnostics } = compilePlan('support.ais', SOURCE, 'O1', 'test');
    expect(diagnostics).toEqual([]);
    const tools = new ToolRegistry().register({ name: 'lookup', run: (input) => `order ${String(input.order)} shipped` });
    expect(validatePlan(plan!, { tools, inputs: { order: 'A-17' } })).toEqual([]);
    expect(validatePlan(plan!, { tools: new ToolRegistry(), inputs: {} }).map((i) => i.message).join('\n')).toMatch(/lookup[\s\S]*missing --input order=/);

    const sink = new InMemorySink();
    const collector = new LlmCallCollector();
    const meter = createMeter({ runsDir: false, log: false, sinks: [sink, collector] });
    const ltm = new LongTermMemory({ path: join(dir, 'ltm.jsonl') });
    const run = await runWorkflow({ plan: plan!, meter, provider: new SimulatedProvider({ seed: 3, timeScale: 0.01 }), model: 'gpt-4o-mini', tools, memory: () => createRunMemory({ ltm }), inputs: { order: 'A-17' } });
    await meter.flush();
    expect(run.ok).toBe(true);
    expect(run.output).toMatch(/^sim#/);
    expect(sink.ofKind('tool_call')).toMatchObject([{ tool: 'lookup', success: true }]);
    expect((await ltm.entries('ltm')).map((e) => e.value)).toEqual(['order A-17 shipped']);
    const metrics = apxmMetrics({ input: 'support.ais', level: 'O1', run, llmCalls: collector.take(run.runId), compileMs: 1, artifactMs: 0.1, validationMs: 0.01 });
    expect(metrics.llm.total_requests).toBe(1);
    expect(metrics.execution).toMatchObject({ nodes_executed: 3, nodes_failed: 0, status: 'success' });
    await meter.close();
    await ltm.close();
  });

  it('resolves as the package subpath flowmeter/runtime from the built package', () => {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', "const m = await import('flowmeter/runtime'); console.log(typeof m.runWorkflow, typeof m.compilePlan)"], { cwd: root, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('function function');
  });
});
