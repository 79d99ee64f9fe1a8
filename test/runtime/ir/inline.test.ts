import { describe, expect, it } from 'vitest';
import { inlineFlows } from '../../../src/runtime/ir/passes/inline.js';
import type { IrFlow } from '../../../src/runtime/ir/plan.js';
import { examplePlan, nodeByLabel, planOf, program } from './helpers.js';

function inlined(text: string): Readonly<Record<string, IrFlow>> {
  return inlineFlows(planOf(text));
}

describe('inlining', () => {
  it('replaces every call in agents.ais by the callee\'s nodes and keeps only the entry', () => {
    const o0 = examplePlan('agents', 'O0');
    expect(o0.flows['Coordinator.main']!.nodes.filter((n) => n.op.kind === 'call')).toHaveLength(2);
    const flows = inlineFlows(o0);
    expect(Object.keys(flows)).toEqual(['Coordinator.main']);
    const nodes = flows['Coordinator.main']!.nodes;
    expect(nodes.map((n) => n.label)).toEqual([
      'Researcher.gather:plan->steps',
      'Researcher.gather:ask->findings',
      'Critic.review:reflect->weaknesses',
      'Coordinator.main:ask->answer',
    ]);
    expect(nodes.map((n) => n.pos.line)).toEqual([13, 14, 21, 6]); // each node keeps its own statement
    // Critic.review(goal, findings): its params became the caller's values.
    expect(nodes[2]!.op).toMatchObject({ args: [[{ text: 'Trace: Find weaknesses in these findings for the goal' }], [{ param: 'goal' }], [{ ref: 1 }]] });
    // The caller's refs to the calls now read the callees' return values.
    expect(nodes[3]!.op).toMatchObject({ args: [expect.anything(), [{ param: 'goal' }], [{ ref: 1 }], [{ ref: 2 }]] });
    expect(examplePlan('agents', 'O1').flows['Coordinator.main']!.nodes.some((n) => n.op.kind === 'call')).toBe(false);
  });

  it('substitutes parameters by the argument\'s parts and merges the literals that meet', () => {
    const extra = 'agent B {\n  flow f(y: str) -> str {\n    ask("Q " + y + "?") -> r\n    return "pre " + r\n  }\n}\n';
    const flow = inlined(program('    B.f(x + "!") -> v\n    think(v) -> t\n    return t + v', { extra }))['A.main']!;
    expect(flow.nodes.map((n) => n.op)).toEqual([
      { kind: 'llm', op: 'ask', args: [[{ text: 'Q ' }, { param: 'x' }, { text: '!?' }]] },
      { kind: 'llm', op: 'think', args: [[{ text: 'pre ' }, { ref: 0 }]] },
    ]);
    expect(flow.output).toEqual([{ ref: 1 }, { text: 'pre ' }, { ref: 0 }]);
  });

  it('gives a callee without a return the empty string', () => {
    const extra = 'agent B {\n  flow log(y: str) {\n    print(y)\n  }\n}\n';
    const flow = inlined(program('    B.log(x) -> v\n    return "[" + v + "]"', { extra }))['A.main']!;
    expect(flow.nodes.map((n) => n.op.kind)).toEqual(['print']);
    expect(flow.output).toEqual([{ text: '[]' }]);
  });

  it('inlines nested calls, renumbering so refs still point to lower ids', () => {
    const extra = [
      'agent B {\n  flow f(y: str) -> str {\n    ask("b1", y) -> b\n    C.g(b) -> c\n    return c\n  }\n}',
      'agent C {\n  flow g(z: str) -> str {\n    ask("c1", z) -> c\n    ask("c2", c) -> d\n    return d\n  }\n}\n',
    ].join('\n');
    const flow = inlined(program('    ask("a0") -> a\n    B.f(a) -> r\n    return r', { extra }))['A.main']!;
    expect(flow.nodes.map((n) => [n.id, n.label, n.op.kind === 'llm' ? n.op.args : null])).toEqual([
      [0, 'A.main:ask->a', [[{ text: 'a0' }]]],
      [1, 'B.f:ask->b', [[{ text: 'b1' }], [{ ref: 0 }]]],
      [2, 'C.g:ask->c', [[{ text: 'c1' }], [{ ref: 1 }]]],
      [3, 'C.g:ask->d', [[{ text: 'c2' }], [{ ref: 2 }]]],
    ]);
    expect(flow.output).toEqual([{ ref: 3 }]);
  });

  it('keeps a call inside a switch case, and its callee, since it runs only when chosen', () => {
    const extra = 'agent B {\n  flow f(y: str) -> str {\n    ask("b", y) -> b\n    return b\n  }\n}\n';
    const flows = inlined(program('    switch x {\n      case "a" => B.f(x)\n      default => B.f("d")\n    } -> r\n    return r', { extra }));
    expect(Object.keys(flows).sort()).toEqual(['A.main', 'B.f']);
    expect(flows['A.main']!.nodes.map((n) => n.op.kind)).toEqual(['switch', 'call']);
    expect(flows['A.main']!.nodes[1]!.fallbackFor).toBe(0);
  });

  it('remaps fallbackFor of a switch that comes from a callee', () => {
    const extra = 'agent B {\n  flow f(y: str) -> str {\n    switch y {\n      case "a" => ask("A")\n      default => ask("D")\n    } -> r\n    return r\n  }\n}\n';
    const flow = inlined(program('    ask("q") -> q\n    B.f(q) -> v\n    return v', { extra }))['A.main']!;
    expect(flow.nodes.map((n) => [n.op.kind, n.fallbackFor])).toEqual([
      ['llm', undefined],
      ['switch', undefined],
      ['llm', 1],
    ]);
    expect(flow.output).toEqual([{ ref: 1 }]);
  });

  it('orders each inlined memory op and print on its own instead of the call as a unit', () => {
    const extra = 'agent B {\n  flow f(y: str) -> str {\n    ask("pure", y) -> p\n    qmem(y, "stm") -> m\n    print(m)\n    return p + m\n  }\n}\n';
    const body = '    umem(x, "stm")\n    print("before")\n    B.f(x) -> v\n    print("after")\n    return v';
    const plan = planOf(program(body, { extra }));
    expect(plan.flows['A.main']!.nodes.map((n) => n.after)).toEqual([[], [], [0, 1], [2]]);
    const flow = inlineFlows(plan)['A.main']!;
    expect(flow.nodes.map((n) => [n.label, n.after])).toEqual([
      ['A.main:umem', []],
      ['A.main:print', []],
      ['B.f:ask->p', []], // pure: free to start at once
      ['B.f:qmem->m', [0]],
      ['B.f:print', [1]],
      ['A.main:print', [4]],
    ]);
    expect(nodeByLabel(flow, 'B.f:print').op).toMatchObject({ args: [[{ ref: 3 }]] });
  });
});
