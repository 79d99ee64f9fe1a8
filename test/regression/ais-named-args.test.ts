/**
 * Numbers and named arguments as apxm's docs write them:
 * `think(prompt: "…", budget_tokens: 1000, backend: "apxm")`. `prompt` is the template,
 * `budget_tokens` caps that call's answer, `model` picks its model; an unknown name warns.
 */
import { describe, expect, it } from 'vitest';
import { createMeter } from '../../src/meter/index.js';
import { compileSource } from '../../src/runtime/ais/index.js';
import { runWorkflow } from '../../src/runtime/execute/index.js';
import { createRunMemory, LongTermMemory } from '../../src/runtime/memory/index.js';
import { SimulatedProvider } from '../../src/runtime/providers/index.js';
import { ToolRegistry } from '../../src/runtime/tools/index.js';
import { InMemorySink } from '../../src/sinks/index.js';
import { entryFlow, planOf } from '../runtime/ir/helpers.js';
import { llmRequests } from '../../src/runtime/ir/count.js';

const NAMED = `agent Thinker {
  flow main(topic: str) -> str {
    think(prompt: "Think hard about " + topic, budget_tokens: 12, backend: "apxm") -> idea
    ask("Write it up", idea, model: "claude-3-5-haiku") -> text
    return text
  }
}
`;

const diagnostics = (text: string): string[] => compileSource('t.ais', text).diagnostics.map((d) => `${d.severity} ${d.line}:${d.col} ${d.message}`);

describe('named arguments and numbers', () => {
  it('lower prompt to the template and budget_tokens and model to the call’s options; an unknown name warns', () => {
    expect(diagnostics(NAMED)).toEqual(['warning 3:67 argument backend has no meaning for think and is ignored (known: prompt, budget_tokens, model)']);
    const flow = entryFlow(planOf(NAMED, 'O1'));
    expect(flow.nodes[0]!.op).toEqual({ kind: 'llm', op: 'think', args: [[{ text: 'Think hard about ' }, { param: 'topic' }]], options: { max_tokens: 12 } });
    expect(flow.nodes[1]!.op).toMatchObject({ kind: 'llm', op: 'ask', options: { model: 'claude-3-5-haiku' } });
    // A call with its own model or budget is not fused into a shared request.
    expect(llmRequests(planOf(NAMED, 'O1'))).toBe(2);
  });

  it('cap the answer and pick the model at run time', async () => {
    const sink = new InMemorySink();
    const meter = createMeter({ runsDir: false, store: false, log: false, env: {}, sinks: [sink] });
    const plan = planOf(NAMED, 'O1');
    const run = await runWorkflow({ plan, meter, provider: new SimulatedProvider({ seed: 3, timeScale: 0 }), model: 'gpt-4o-mini', tools: new ToolRegistry(), memory: () => createRunMemory({ ltm: new LongTermMemory() }), inputs: { topic: 'tides' } });
    await meter.close();
    expect(run.ok).toBe(true);
    const calls = sink.ofKind('llm_call');
    expect(calls.map((c) => c.model)).toEqual(['gpt-4o-mini', 'claude-3-5-haiku']);
    expect(calls[0]!.output_tokens).toBeLessThanOrEqual(12);
    expect(calls[1]!.output_tokens).toBeGreaterThan(12);
  });

  it('say one thing once about a bad value: a number, a name twice, a budget that is not a whole number', () => {
    const one = (call: string): string[] => diagnostics(`agent A {\n  flow main(x: str) -> str {\n    ${call} -> y\n    return y\n  }\n}\n`).filter((d) => d.startsWith('error'));
    expect(one('think("t " + x, budget_tokens: 3000x)')).toEqual(["error 3:40 expected ')', found identifier \"x\""]);
    expect(one('think("t " + x, budget_tokens: 1.5)')).toEqual(['error 3:36 budget_tokens must be a positive whole number, e.g. budget_tokens: 1000']);
    expect(one('think("t " + x, model: "a", model: "b")')).toEqual(['error 3:33 argument model is given twice']);
    expect(one('ask("Count to " + 10 + " with " + x)')).toEqual([]);
  });
});
