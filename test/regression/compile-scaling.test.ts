/**
 * Issue 13, item 5: -O1 fusion was quadratic (a 20k chain of dependent asks did not finish;
 * `fuseFlow` copied the growing chain and rebuilt its label at every step). A 20k chain now
 * compiles at -O1 into the plan -O0 semantics call for: one request holding every step in
 * source order, each step reading the one before it. The time bound is a hang guard only;
 * growth per node is printed by `npm run bench -- compile --print`.
 */
import { describe, expect, it } from 'vitest';
import { compilePlan } from '../../src/runtime/ir/compile-plan.js';
import type { Arg, FusedStep, IrFlow, Plan } from '../../src/runtime/ir/plan.js';

const N = 20_000;
const HANG_GUARD_MS = 20_000;

/** `ask` chain of `n` steps; every `printEvery`-th answer is also printed, which pins it. */
function chain(n: number, printEvery = 0): string {
  const lines = ['agent A {', '  @entry flow main(x: str) -> str {'];
  for (let i = 0; i < n; i++) {
    lines.push(`    ask("step ${i}: " + ${i === 0 ? 'x' : `y${i - 1}`}) -> y${i}`);
    if (printEvery > 0 && i % printEvery === printEvery - 1 && i < n - 1) lines.push(`    print(y${i})`);
  }
  lines.push(`    return y${n - 1}`, '  }', '}');
  return `${lines.join('\n')}\n`;
}

function compile(text: string, level: 'O0' | 'O1'): { plan: Plan; ms: number } {
  const t0 = performance.now();
  const r = compilePlan('chain.ais', text, level, 'test');
  const ms = performance.now() - t0;
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return { plan: r.plan!, ms };
}

const entry = (plan: Plan): IrFlow => plan.flows[plan.entry]!;

/** The -O0 node's args with its read of the previous node as `prev`: what the fused step must hold. */
function expectedStep(o0: IrFlow, i: number): FusedStep {
  const node = o0.nodes[i]!;
  if (node.op.kind !== 'llm') throw new Error('not an llm node');
  const args = node.op.args.map((arg): Arg => arg.map((p) => ('ref' in p && p.ref === i - 1 ? { prev: true as const } : p)));
  return { op: node.op.op, args, binds: `y${i}` };
}

describe(`a chain of ${N.toLocaleString('en-US')} dependent asks at -O1`, () => {
  it('fuses into one request whose steps are the -O0 nodes in order, in linear time', () => {
    const text = chain(N);
    const o0 = entry(compile(text, 'O0').plan);
    const { plan, ms } = compile(text, 'O1');
    expect(ms).toBeLessThan(HANG_GUARD_MS);
    expect(plan.passes.at(-1)).toEqual({ pass: 'fuse', nodesBefore: N, nodesAfter: 1, llmBefore: N, llmAfter: 1 });
    const flow = entry(plan);
    expect(flow.nodes).toHaveLength(1);
    const node = flow.nodes[0]!;
    if (node.op.kind !== 'fused_llm') throw new Error(`expected a fused node, got ${node.op.kind}`);
    expect(node.op.steps).toHaveLength(N);
    for (const i of [0, 1, 2, 3, 9_999, N - 1]) expect(node.op.steps[i]).toEqual(expectedStep(o0, i));
    // Every step but the first reads only the step before it; the first reads the input.
    expect(node.op.steps.slice(1).every((s) => s.args[0]!.some((p) => 'prev' in p) && !s.args[0]!.some((p) => 'ref' in p))).toBe(true);
    expect(node.op.steps[0]!.args[0]).toEqual([{ text: 'step 0: ' }, { param: 'x' }]);
    expect(node.pos).toEqual(o0.nodes[0]!.pos);
    expect(node.label.startsWith('A.main:fused[ask->y0,ask->y1,ask->y2,')).toBe(true);
    expect(flow.output).toEqual([{ ref: 0 }]);
  });

  it('stops a fused chain at every answer that is also read elsewhere', () => {
    // Printing every 1,000th answer pins it: it cannot disappear into the next step.
    const { plan, ms } = compile(chain(N, 1_000), 'O1');
    expect(ms).toBeLessThan(HANG_GUARD_MS);
    const flow = entry(plan);
    const fused = flow.nodes.filter((n) => n.op.kind === 'fused_llm');
    expect(fused).toHaveLength(N / 1_000);
    expect(fused.every((n) => n.op.kind === 'fused_llm' && n.op.steps.length === 1_000)).toBe(true);
    expect(plan.passes.at(-1)!.llmAfter).toBe(N / 1_000);
    expect(flow.nodes.filter((n) => n.op.kind === 'print')).toHaveLength(N / 1_000 - 1);
  });
});
