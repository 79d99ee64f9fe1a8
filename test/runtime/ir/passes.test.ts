import { describe, expect, it } from 'vitest';
import { llmRequests } from '../../../src/runtime/ir/count.js';
import { optimize } from '../../../src/runtime/ir/optimize.js';
import { cseFlow } from '../../../src/runtime/ir/passes/cse.js';
import { dceFlow } from '../../../src/runtime/ir/passes/dce.js';
import { fuseFlow } from '../../../src/runtime/ir/passes/fuse.js';
import { verifyPlanHash } from '../../../src/runtime/ir/plan-hash.js';
import { entryFlow, examplePlan, planOf, program } from './helpers.js';

const searchTool = '  capability search(q: str) -> str;\n  tools: [search]';

describe('dead-code elimination', () => {
  it('keeps print, umem and tool calls and drops an unused ask with its now-unused producer', () => {
    const body = [
      '    ask("producer") -> p',
      '    ask("unused", p) -> u',
      '    ask("used") -> k',
      '    print(x)',
      '    umem(x, "stm")',
      '    search(x) -> h',
      '    return k',
    ].join('\n');
    const flow = dceFlow(entryFlow(planOf(program(body, { members: searchTool }))));
    expect(flow.nodes.map((n) => n.label)).toEqual(['A.main:ask->k', 'A.main:print', 'A.main:umem', 'A.main:search->h']);
    expect(flow.nodes.map((n) => n.id)).toEqual([0, 1, 2, 3]);
    expect(flow.output).toEqual([{ ref: 0 }]);
  });

  it('drops an after edge to a removed read', () => {
    const before = entryFlow(planOf(program('    qmem(x, "stm") -> m\n    umem(x, "stm")\n    return x')));
    expect(before.nodes[1]!.after).toEqual([0]);
    const flow = dceFlow(before);
    expect(flow.nodes.map((n) => [n.op.kind, n.after])).toEqual([['umem', []]]);
  });

  it('removes an unused switch together with its default', () => {
    const flow = dceFlow(entryFlow(planOf(program('    switch x { case "a" => ask("A") default => ask("D") } -> r\n    return x'))));
    expect(flow.nodes).toEqual([]);
  });

  it('keeps a switch whose default has an effect, and the default with it', () => {
    const flow = dceFlow(entryFlow(planOf(program('    switch x { case "a" => ask("A") default => print("no match") } -> r\n    return x'))));
    expect(flow.nodes.map((n) => [n.op.kind, n.fallbackFor])).toEqual([
      ['switch', undefined],
      ['print', 0],
    ]);
  });

  it('keeps a used switch\'s default', () => {
    const flow = dceFlow(entryFlow(planOf(program('    switch x { case "a" => ask("A") default => ask("D") } -> r\n    return r'))));
    expect(flow.nodes).toHaveLength(2);
  });
});

describe('common-subexpression elimination', () => {
  it('merges two identical asks and points their readers at the first', () => {
    const flow = cseFlow(entryFlow(planOf(program('    ask("q", x) -> a\n    ask("q", x) -> b\n    merge(a, b) -> m\n    return m + b'))));
    expect(flow.nodes.map((n) => n.op)).toEqual([
      { kind: 'llm', op: 'ask', args: [[{ text: 'q' }], [{ param: 'x' }]] },
      { kind: 'merge', args: [[{ ref: 0 }], [{ ref: 0 }]] },
    ]);
    expect(flow.output).toEqual([{ ref: 1 }, { ref: 0 }]);
  });

  it('merges what becomes identical once its inputs merged', () => {
    const flow = cseFlow(entryFlow(planOf(program('    ask("q") -> a\n    ask("q") -> b\n    verify("t", a) -> c\n    verify("t", b) -> d\n    return c + d'))));
    expect(flow.nodes).toHaveLength(2);
    expect(flow.output).toEqual([{ ref: 1 }, { ref: 1 }]);
  });

  it('never merges effects, switches or reads ordered after different writes', () => {
    const body = [
      '    print(x)',
      '    print(x)',
      '    qmem(x, "stm") -> a',
      '    umem("v", "stm")',
      '    qmem(x, "stm") -> b',
      '    switch x { case "k" => ask("K") } -> s1',
      '    switch x { case "k" => ask("K") } -> s2',
      '    return a + b + s1 + s2',
    ].join('\n');
    const flow = entryFlow(planOf(program(body)));
    expect(cseFlow(flow)).toEqual(flow);
  });

  it('merges two reads of a store ordered after the same write', () => {
    const flow = cseFlow(entryFlow(planOf(program('    umem("v", "stm")\n    qmem(x, "stm") -> a\n    qmem(x, "stm") -> b\n    return a + b'))));
    expect(flow.nodes.map((n) => n.op.kind)).toEqual(['umem', 'qmem']);
    expect(flow.output).toEqual([{ ref: 1 }, { ref: 1 }]);
  });
});

describe('ask-chain fusion', () => {
  it('fuses the five-step chain of chain.ais into one request with five steps', () => {
    const o0 = examplePlan('chain', 'O0');
    expect(entryFlow(o0).nodes).toHaveLength(5);
    expect(llmRequests(o0)).toBe(5);
    const o1 = examplePlan('chain', 'O1');
    const [node, ...rest] = entryFlow(o1).nodes;
    expect(rest).toEqual([]);
    expect(llmRequests(o1)).toBe(1);
    if (node?.op.kind !== 'fused_llm') throw new Error('expected a fused node');
    expect(node.op.steps.map((s) => s.binds)).toEqual(['thesis', 'outline', 'draft', 'tight', 'final']);
    expect(node.op.steps[0]!.args).toEqual([[{ text: 'Turn this idea into a one-line thesis: ' }, { param: 'idea' }]]);
    expect(node.op.steps[1]!.args).toEqual([[{ text: 'Outline an essay arguing: ' }, { prev: true }]]);
    expect(node.label).toBe('Writer.main:fused[ask->thesis,ask->outline,ask->draft,ask->tight,ask->final]');
    expect(node.pos).toEqual({ line: 4, col: 5 });
    expect(entryFlow(o1).output).toEqual([{ ref: 0 }]);
  });

  it('fuses a chain of two and keeps other inputs of every step as refs', () => {
    const flow = fuseFlow(entryFlow(planOf(program('    merge(x) -> c\n    ask("a", c) -> a\n    ask("b " + a + a, c) -> b\n    return b'))));
    expect(flow.nodes.map((n) => n.op)).toEqual([
      { kind: 'merge', args: [[{ param: 'x' }]] },
      {
        kind: 'fused_llm',
        steps: [
          { op: 'ask', binds: 'a', args: [[{ text: 'a' }], [{ ref: 0 }]] },
          { op: 'ask', binds: 'b', args: [[{ text: 'b ' }, { prev: true }, { prev: true }], [{ ref: 0 }]] },
        ],
      },
    ]);
  });

  it('does not fuse an answer that is read elsewhere too', () => {
    for (const body of [
      '    ask("a") -> a\n    ask("b", a) -> b\n    return a + b', //     the output reads a
      '    ask("a") -> a\n    ask("b", a) -> b\n    print(a)\n    return b', // a print reads a
      '    ask("a") -> a\n    switch a { case "k" => ask("b", a) } -> b\n    return b', // a switch reads a
    ]) {
      const flow = entryFlow(planOf(program(body)));
      expect(fuseFlow(flow)).toEqual(flow);
    }
  });

  it('does not fuse into a step that reads the answer after the first step', () => {
    // b1 and b2 read a, so a is read only by the fused [b1, b2] but not in its first step.
    const flow = fuseFlow(entryFlow(planOf(program('    ask("a") -> a\n    ask("b1", a) -> b1\n    ask("b2", b1, a) -> b2\n    return b2'))));
    expect(flow.nodes).toHaveLength(2);
    expect(flow.nodes[1]!.op).toMatchObject({ kind: 'fused_llm', steps: [{ binds: 'b1' }, { binds: 'b2', args: [[{ text: 'b2' }], [{ prev: true }], [{ ref: 0 }]] }] });
  });

  it('does not fuse a join of two independent asks', () => {
    const flow = entryFlow(planOf(program('    ask("a") -> a\n    ask("b") -> b\n    ask("j", a, b) -> j\n    return j')));
    expect(fuseFlow(flow)).toEqual(flow);
  });

  it('fuses across an inlined call boundary', () => {
    const text = program('    B.draft(x) -> d\n    ask("Polish", d) -> p\n    return p', { extra: 'agent B {\n  flow draft(t: str) -> str {\n    ask("Draft " + t) -> r\n    return r\n  }\n}\n' });
    const o1 = planOf(text, 'O1');
    expect(entryFlow(o1).nodes.map((n) => n.op.kind)).toEqual(['fused_llm']);
    expect(llmRequests(o1)).toBe(1);
  });

  it('fuses ask only: think, reason, reflect, plan and verify keep their own calls, as in apxm', () => {
    for (const op of ['think', 'reason', 'reflect', 'plan', 'verify']) {
      const o1 = planOf(program(`    ask("a " + x) -> a\n    ${op}("b", a) -> b\n    ask("c", b) -> c\n    return c`), 'O1');
      expect(llmRequests(o1), op).toBe(3);
    }
    // The agents example: plan, ask, reflect and the final ask stay four requests at -O1.
    expect(llmRequests(examplePlan('agents', 'O1'))).toBe(4);
  });

  it('keeps think, reason, reflect and plan when nothing reads them (apxm: they write memory), and drops an unread ask', () => {
    for (const op of ['think', 'reason', 'reflect', 'plan']) {
      const o1 = planOf(program(`    ${op}("note " + x) -> unused\n    ask("a " + x) -> a\n    return a`), 'O1');
      expect(llmRequests(o1), op).toBe(2);
    }
    expect(llmRequests(planOf(program('    ask("note " + x) -> unused\n    ask("a " + x) -> a\n    return a'), 'O1'))).toBe(1);
  });
});

describe('optimize', () => {
  it('runs inline, dce, cse and fuse in order and records each', () => {
    const o1 = examplePlan('chain', 'O1');
    expect(o1.optimization_level).toBe('O1');
    expect(o1.passes).toEqual([
      { pass: 'inline', nodesBefore: 5, nodesAfter: 5, llmBefore: 5, llmAfter: 5 },
      { pass: 'dce', nodesBefore: 5, nodesAfter: 5, llmBefore: 5, llmAfter: 5 },
      { pass: 'cse', nodesBefore: 5, nodesAfter: 5, llmBefore: 5, llmAfter: 5 },
      { pass: 'fuse', nodesBefore: 5, nodesAfter: 1, llmBefore: 5, llmAfter: 1 },
    ]);
    expect(verifyPlanHash(o1)).toBe(true);
  });

  it('counts every flow\'s nodes, so inlining shows the call nodes it removed', () => {
    expect(examplePlan('agents', 'O1').passes[0]).toEqual({ pass: 'inline', nodesBefore: 6, nodesAfter: 4, llmBefore: 4, llmAfter: 4 });
  });

  it('runs no pass at -O0', () => {
    const o0 = examplePlan('chain', 'O0');
    expect(optimize(o0, 'O0')).toBe(o0);
    expect(o0.passes).toEqual([]);
  });

  it('counts a switch as its largest case and its default as 0', () => {
    const body = '    switch x {\n      case "a" => ask("A")\n      case "b" => print("B")\n      default => ask("D")\n    } -> r\n    return r';
    expect(llmRequests(planOf(program(body)))).toBe(1);
    expect(llmRequests(examplePlan('routing', 'O0'))).toBe(2);
  });

  it('counts a call as its callee\'s requests', () => {
    expect(llmRequests(examplePlan('agents', 'O0'))).toBe(4);
  });
});
