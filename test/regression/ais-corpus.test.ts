/**
 * Our own corpus of programs in apxm's language (test/regression/fixtures/ais-corpus), one
 * per group of constructs, with the node and LLM-request counts each must have at -O0 and
 * -O1, and a dry run of each at both levels on the seeded simulated provider.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createMeter } from '../../src/index.js';
import { compileSource } from '../../src/runtime/ais/index.js';
import { runWorkflow } from '../../src/runtime/execute/index.js';
import { llmRequests, nodeCount } from '../../src/runtime/ir/count.js';
import { SimulatedProvider } from '../../src/runtime/providers/index.js';
import { ListMemory, TestTools } from '../runtime/execute/fixtures.js';
import { planOf } from '../runtime/ir/helpers.js';

const DIR = join(import.meta.dirname, 'fixtures', 'ais-corpus');

interface Expected {
  /** Nodes over every flow of the plan, and the entry's LLM requests (an upper bound where a branch decides). */
  readonly O0: { readonly nodes: number; readonly llm: number };
  readonly O1: { readonly nodes: number; readonly llm: number };
  /** Flows in the plan at -O1: the entry, plus one per block that runs only when chosen. */
  readonly flowsO1: number;
  readonly warnings?: readonly string[];
}

const EXPECTED: Readonly<Record<string, Expected>> = {
  // gather is inlined; lookup is a tool.
  'implicit-entry.ais': { O0: { nodes: 3, llm: 1 }, O1: { nodes: 2, llm: 1 }, flowsO1: 1 },
  'named-args.ais': { O0: { nodes: 2, llm: 2 }, O1: { nodes: 2, llm: 2 }, flowsO1: 1, warnings: ['argument backend has no meaning for think and is ignored (known: prompt, budget_tokens, model)'] },
  // Three asks that each feed only the next: one request at -O1; `let label = …` is a merge.
  'chain-let-interpolation.ais': { O0: { nodes: 4, llm: 3 }, O1: { nodes: 2, llm: 1 }, flowsO1: 1 },
  // Two asks, then one branch's single ask: 3; blocks are flows (then, else, its loop body, try, catch).
  'control-flow.ais': { O0: { nodes: 12, llm: 3 }, O1: { nodes: 12, llm: 3 }, flowsO1: 6 },
  // classify, one case, verify.
  'switch-pipe-memory.ais': { O0: { nodes: 8, llm: 3 }, O1: { nodes: 8, llm: 3 }, flowsO1: 1 },
  // reason, and Summarizer's ask run in process (inlined at -O1); Archive is a tool.
  'multi-agent.ais': { O0: { nodes: 4, llm: 2 }, O1: { nodes: 3, llm: 2 }, flowsO1: 1 },
  'verify-reflect-plan.ais': { O0: { nodes: 4, llm: 4 }, O1: { nodes: 4, llm: 4 }, flowsO1: 1 },
};

const files = readdirSync(DIR).filter((f) => f.endsWith('.ais')).sort();

describe('the AIS corpus', () => {
  it('has an expectation for every program, and a program for every expectation', () => {
    expect(files).toEqual(Object.keys(EXPECTED).sort());
  });

  for (const file of files) {
    it(`${file}: compiles with its counts at -O0 and -O1, and runs at both`, async () => {
      const text = readFileSync(join(DIR, file), 'utf8');
      const expected = EXPECTED[file]!;
      const front = compileSource(file, text);
      expect(front.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
      expect(front.diagnostics.map((d) => d.message)).toEqual(expected.warnings ?? []);
      const o0 = planOf(text, 'O0', file);
      const o1 = planOf(text, 'O1', file);
      expect({ nodes: nodeCount(o0), llm: llmRequests(o0) }).toEqual(expected.O0);
      expect({ nodes: nodeCount(o1), llm: llmRequests(o1) }).toEqual(expected.O1);
      expect(Object.keys(o1.flows)).toHaveLength(expected.flowsO1);

      for (const [plan, bound] of [[o0, expected.O0.llm], [o1, expected.O1.llm]] as const) {
        const meter = createMeter({ runsDir: false, log: false, prometheus: false, store: false, env: {}, onWarning: () => undefined });
        const tools = new TestTools()
          .add('lookup', (input) => `facts about ${String(input.input)}`)
          .add('crm_lookup', () => {
            throw new Error('crm offline');
          })
          .add('communicate', (input) => `ack from ${String(input.input)}`);
        const printed: string[] = [];
        const provider = new SimulatedProvider({ seed: 7, timeScale: 0 });
        try {
          const inputs = Object.fromEntries(plan.flows[plan.entry]!.params.map((p) => [p, 'sample']));
          const run = await runWorkflow({ plan, meter, provider, model: 'gpt-4o-mini', tools, memory: () => new ListMemory(), inputs, print: (t) => printed.push(t) });
          expect(run.ok, String(run.error)).toBe(true);
          // A branch that was not taken makes no request: the count is at most the plan's bound.
          const made = run.event?.llm_calls ?? -1;
          expect(made).toBeGreaterThan(0);
          expect(made).toBeLessThanOrEqual(bound);
        } finally {
          await meter.close();
        }
      }
    });
  }
});
