import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalJson, verifyPlanHash } from '../../../src/runtime/ir/plan-hash.js';
import { dataDeps } from '../../../src/runtime/ir/plan.js';
import { VERSION, entryFlow, nodeByLabel, planOf, program } from './helpers.js';

describe('lowering one statement at a time', () => {
  it.each(['ask', 'think', 'reason', 'plan', 'reflect', 'verify'] as const)('lowers %s to an llm node with the template first', (op) => {
    const flow = entryFlow(planOf(program(`    ${op}("Do " + x, x) -> r\n    return r`)));
    expect(flow.nodes).toHaveLength(1);
    // apxm's meanings: plan's first argument is the goal; verify takes (claim, evidence[, template]).
    const args =
      op === 'plan' ? [[{ text: 'Goal: Do ' }, { param: 'x' }], [{ param: 'x' }]]
      : op === 'verify' ? [[{ text: 'Check the claim against the evidence.' }], [{ text: 'Claim: Do ' }, { param: 'x' }], [{ text: 'Evidence: ' }, { param: 'x' }]]
      : [[{ text: 'Do ' }, { param: 'x' }], [{ param: 'x' }]];
    expect(flow.nodes[0]!.op).toEqual({ kind: 'llm', op, args });
    // apxm's memory-writing operations run even when nothing reads them.
    expect(flow.nodes[0]!.effect).toBe(['think', 'reason', 'plan', 'reflect'].includes(op));
    expect(flow.output).toEqual([{ ref: 0 }]);
  });

  it("gives reflect's string first argument apxm's meaning (what to reflect on), and verify's third the template", () => {
    const flow = entryFlow(planOf(program('    reflect("run-42", x) -> a\n    verify(a, x, "Is it consistent?") -> b\n    return b')));
    expect(flow.nodes.map((n) => n.op)).toEqual([
      { kind: 'llm', op: 'reflect', args: [[{ text: 'Trace: run-42' }], [{ param: 'x' }]] },
      { kind: 'llm', op: 'verify', args: [[{ text: 'Is it consistent?' }], [{ text: 'Claim: ' }, { ref: 0 }], [{ text: 'Evidence: ' }, { param: 'x' }]] },
    ]);
  });

  it('flattens a concatenation into parts and merges adjacent literals', () => {
    const flow = entryFlow(planOf(program('    ask("a" + "b" + x + "c" + "" + "d") -> r\n    return r + "!"')));
    expect(flow.nodes[0]!.op).toMatchObject({ args: [[{ text: 'ab' }, { param: 'x' }, { text: 'cd' }]] });
    expect(flow.output).toEqual([{ ref: 0 }, { text: '!' }]);
  });

  it('lowers print and merge; print is an effect, merge is not', () => {
    const flow = entryFlow(planOf(program('    merge(x, "y") -> m\n    print("m: " + m)\n    return m')));
    expect(flow.nodes.map((n) => [n.op, n.effect])).toEqual([
      [{ kind: 'merge', args: [[{ param: 'x' }], [{ text: 'y' }]] }, false],
      [{ kind: 'print', args: [[{ text: 'm: ' }, { ref: 0 }]] }, true],
    ]);
  });

  it('lowers a capability call to a tool call with the declared parameter names', () => {
    const members = '  capability search(query: str, limit: str) -> str;\n  tools: [search]';
    const flow = entryFlow(planOf(program('    search(x, "5") -> hits\n    return hits', { members })));
    expect(flow.nodes[0]!.op).toEqual({ kind: 'tool', via: 'capability', tool: 'search', params: ['query', 'limit'], args: [[{ param: 'x' }], [{ text: '5' }]] });
    expect(flow.nodes[0]!.effect).toBe(true);
    expect(flow.nodes[0]!.label).toBe('A.main:search->hits');
  });

  it('lowers inv to a tool call via inv with the name and the payload', () => {
    const flow = entryFlow(planOf(program('    inv("calc", "{\\"e\\": 1}") -> r\n    return r')));
    expect(flow.nodes[0]!.op).toEqual({ kind: 'tool', via: 'inv', args: [[{ text: 'calc' }], [{ text: '{"e": 1}' }]] });
    expect(flow.nodes[0]!.effect).toBe(true);
  });

  it('resolves memory spaces: a tier literal in any case, or a memory entry to its tier', () => {
    const members = '  memory { session: STM, notes: Episodic }';
    const body = '    qmem(x, "LTM") -> a\n    qmem(x, "session") -> b\n    umem(a + b, "notes")\n    umem(x, "Stm")\n    return a';
    const flow = entryFlow(planOf(program(body, { members })));
    expect(flow.nodes.map((n) => n.op)).toEqual([
      { kind: 'qmem', space: 'ltm', store: 'ltm', args: [[{ param: 'x' }]] },
      { kind: 'qmem', space: 'stm', store: 'session', args: [[{ param: 'x' }]] },
      { kind: 'umem', space: 'episodic', store: 'notes', args: [[{ ref: 0 }, { ref: 1 }]] },
      { kind: 'umem', space: 'stm', store: 'stm', args: [[{ param: 'x' }]] },
    ]);
    expect(flow.nodes.map((n) => n.effect)).toEqual([false, false, true, true]);
  });

  it('lowers Agent.flow(args) to a call node and lowers the callee into the plan', () => {
    const extra = 'agent B {\n  flow f(y: str) -> str {\n    print(y)\n    return y\n  }\n  flow unused() { print("never") }\n}\n';
    const plan = planOf(program('    B.f(x) -> r\n    return r', { extra }));
    const flow = entryFlow(plan);
    expect(flow.nodes[0]!.op).toEqual({ kind: 'call', callee: 'B.f', args: [[{ param: 'x' }]] });
    expect(flow.nodes[0]!.label).toBe('A.main:B.f->r');
    // The callee prints, so the call has an effect; the unreachable flow is not lowered.
    expect(flow.nodes[0]!.effect).toBe(true);
    expect(Object.keys(plan.flows).sort()).toEqual(['A.main', 'B.f']);
    expect(plan.flows['B.f']).toMatchObject({ params: ['y'], output: [{ param: 'y' }] });
  });

  it('lowers a switch to a switch node and its default to a node with fallbackFor', () => {
    const body = '    ask("k") -> k\n    switch k {\n      case "a" => ask("A", x)\n      case "b" => print("B")\n      default => think("D")\n    } -> out\n    return out';
    const flow = entryFlow(planOf(program(body)));
    const sw = nodeByLabel(flow, ':switch->out');
    expect(sw.op).toEqual({
      kind: 'switch',
      subject: [{ ref: 0 }],
      cases: [
        { label: 'a', op: { kind: 'llm', op: 'ask', args: [[{ text: 'A' }], [{ param: 'x' }]] } },
        { label: 'b', op: { kind: 'print', args: [[{ text: 'B' }]] } },
      ],
    });
    expect(sw.effect).toBe(true); // a case prints
    const fallback = nodeByLabel(flow, ':default(think)->out');
    expect(fallback).toMatchObject({ id: sw.id + 1, fallbackFor: sw.id, op: { kind: 'llm', op: 'think' }, pos: { line: 8, col: 18 } });
    expect(flow.output).toEqual([{ ref: sw.id }]);
  });

  it('has no fallbackFor on a switch without a default', () => {
    const flow = entryFlow(planOf(program('    switch x { case "a" => ask("A") } -> out\n    return out')));
    expect(flow.nodes).toHaveLength(1);
    expect('fallbackFor' in flow.nodes[0]!).toBe(false);
  });

  it('labels nodes Agent.flow:op->var and places them at their statement', () => {
    const flow = entryFlow(planOf(program('    ask("q") -> answer\n    print(answer)\n    return answer')));
    expect(flow.nodes.map((n) => [n.label, n.pos])).toEqual([
      ['A.main:ask->answer', { line: 4, col: 5 }],
      ['A.main:print', { line: 5, col: 5 }],
    ]);
  });

  it('keeps nodes in source order, every ref pointing to a lower id', () => {
    const flow = entryFlow(planOf(program('    ask("1") -> a\n    ask("2", a) -> b\n    merge(a, b) -> c\n    return c')));
    for (const n of flow.nodes) for (const d of dataDeps(n.op)) expect(d).toBeLessThan(n.id);
  });

  it('takes the first return as the output, and a flow without one has output null', () => {
    expect(entryFlow(planOf(program('    return "a"\n    return "b"'))).output).toEqual([{ text: 'a' }]);
    const plan = planOf('agent A {\n  @entry flow main() { print("hi") }\n}\n');
    expect(entryFlow(plan).output).toBeNull();
  });
});

describe('ordering edges', () => {
  it('orders memory ops on one store: read after write, write after write, write after read', () => {
    const body = [
      '    umem(x, "stm")', //       %0
      '    qmem(x, "stm") -> a', //  %1 after %0 (RAW)
      '    qmem(x, "ltm") -> o', //  %2 other store: free
      '    qmem(x, "stm") -> b', //  %3 after %0 (RAW)
      '    umem(o, "stm")', //       %4 after %0 (WAW), %1 and %3 (WAR)
      '    return a + b',
    ].join('\n');
    const flow = entryFlow(planOf(program(body)));
    expect(flow.nodes.map((n) => n.after)).toEqual([[], [0], [], [0], [0, 1, 3]]);
  });

  it('chains prints in source order', () => {
    const flow = entryFlow(planOf(program('    print("1")\n    ask("q") -> a\n    print("2")\n    print(a)\n    return a')));
    expect(flow.nodes.map((n) => n.after)).toEqual([[], [], [0], [2]]);
  });

  it('drops an ordering edge that duplicates a data dependency', () => {
    const flow = entryFlow(planOf(program('    qmem(x, "stm") -> a\n    umem(a, "stm")\n    return a')));
    expect(flow.nodes[1]!.after).toEqual([]);
    expect(dataDeps(flow.nodes[1]!.op)).toEqual([0]);
  });

  it('orders a call node by its callee\'s memory footprint', () => {
    const extra = 'agent B {\n  flow w(y: str) {\n    umem(y, "stm")\n  }\n}\n';
    const flow = entryFlow(planOf(program('    qmem(x, "stm") -> a\n    B.w(x)\n    qmem(x, "stm") -> b\n    return a + b', { extra })));
    expect(flow.nodes.map((n) => n.after)).toEqual([[], [0], [1]]);
    expect(flow.nodes[1]!.effect).toBe(true);
  });
});

describe('the plan around the flows', () => {
  const text = program('    ask("q") -> unused\n    return x');
  const plan = planOf(text, 'O0', 'dir/test.ais');

  it('keeps the checker\'s warnings', () => {
    expect(plan.warnings).toEqual([{ line: 4, col: 17, message: 'value "unused" is never used' }]);
  });

  it('stamps the format, compiler, level, entry and source digest', () => {
    expect(plan).toMatchObject({ format: 'flowmeter.plan.v1', compiler: VERSION, optimization_level: 'O0', entry: 'A.main', passes: [] });
    expect(plan.source).toEqual({ file: 'dir/test.ais', sha256: createHash('sha256').update(text).digest('hex') });
  });

  it('hashes the canonical JSON of every field but the hash', () => {
    const { hash, ...body } = plan;
    expect(hash).toBe(createHash('sha256').update(canonicalJson(body)).digest('hex'));
    expect(verifyPlanHash(plan)).toBe(true);
    expect(verifyPlanHash({ ...plan, entry: 'B.main' })).toBe(false);
  });

  it('is deterministic: the same source gives the same hash', () => {
    expect(planOf(text, 'O0', 'dir/test.ais').hash).toBe(plan.hash);
    expect(planOf(`${text}\n`, 'O0', 'dir/test.ais').hash).not.toBe(plan.hash);
  });

  it('writes canonical JSON with sorted keys and no whitespace', () => {
    expect(canonicalJson({ b: [1, { d: undefined, c: 'x y' }], a: null })).toBe('{"a":null,"b":[1,{"c":"x y"}]}');
  });
});
