import { describe, expect, it } from 'vitest';
import { validatePlan, verifyPlanHash } from '../../../src/runtime/ir/validate.js';
import type { ValidateOptions } from '../../../src/runtime/ir/validate.js';
import type { Plan } from '../../../src/runtime/ir/plan.js';
import { edited, examplePlan, planOf, program } from './helpers.js';

function registry(...names: string[]): NonNullable<ValidateOptions['tools']> {
  return { has: (n) => names.includes(n), names: () => [...names].sort() };
}

const messages = (plan: Plan, opts: ValidateOptions = {}): string[] => validatePlan(plan, opts).map((i) => i.message);

describe('validatePlan accepts', () => {
  it('a compiled plan with its tools registered and its inputs given', () => {
    const plan = examplePlan('tools', 'O1');
    expect(validatePlan(plan, { tools: registry('web_search', 'fetch_page', 'calculator'), inputs: { question: 'why?' } })).toEqual([]);
  });

  it('a computed inv name without a registry check (it is known only at run time)', () => {
    const plan = edited(planOf(program('    inv("calc", "{}") -> r\n    return r')), (p) => {
      p.flows['A.main']!.nodes[0]!.op = { kind: 'tool', via: 'inv', args: [[{ text: 'calc' }, { param: 'x' }], [{ text: '{}' }]] };
    });
    expect(validatePlan(plan, { tools: registry() })).toEqual([]);
    expect(validatePlan(planOf(program('    inv("calc", "{}") -> r\n    return r')), { tools: registry() })).toHaveLength(1);
  });
});

describe('validatePlan catches a hand-edited plan', () => {
  const chain = examplePlan('chain', 'O0');

  it('with a cycle, even where every id is in range', () => {
    const plan = edited(chain, (p) => {
      p.flows['Writer.main']!.nodes[0]!.op = { kind: 'llm', op: 'ask', args: [[{ text: 'loop' }, { ref: 4 }]] };
    });
    expect(messages(plan)).toEqual([
      'Writer.main: cycle through Writer.main %0 (Writer.main:ask->thesis), Writer.main %1 (Writer.main:ask->outline), Writer.main %2 (Writer.main:ask->draft), Writer.main %3 (Writer.main:ask->tight), Writer.main %4 (Writer.main:ask->final)',
    ]);
  });

  it('with an edge to a later node in an acyclic graph', () => {
    const plan = edited(examplePlan('research', 'O0'), (p) => {
      p.flows['Researcher.main']!.nodes[0]!.after = [1];
    });
    expect(messages(plan)).toEqual(['Researcher.main %0 (Researcher.main:ask->history): depends on the later node %1; nodes must be in topological order']);
  });

  it('with a ref to a node that does not exist', () => {
    const plan = edited(chain, (p) => {
      p.flows['Writer.main']!.output = [{ ref: 99 }];
      p.flows['Writer.main']!.nodes[1]!.op = { kind: 'llm', op: 'ask', args: [[{ ref: 7 }]] };
    });
    expect(messages(plan)).toEqual([
      'Writer.main %1 (Writer.main:ask->outline): reads %7, which is not another node of Writer.main',
      'Writer.main return: reads %99, which is not a node of Writer.main',
    ]);
  });

  it('with a param the flow does not have', () => {
    const plan = edited(chain, (p) => {
      p.flows['Writer.main']!.nodes[0]!.op = { kind: 'llm', op: 'ask', args: [[{ param: 'topic' }]] };
    });
    expect(messages(plan)).toEqual(['Writer.main %0 (Writer.main:ask->thesis): reads $topic, which is not a parameter of Writer.main (idea)']);
  });

  it('with an unknown op kind, or an unknown LLM op', () => {
    const plan = edited(chain, (p) => {
      p.flows['Writer.main']!.nodes[0]!.op = { kind: 'teleport', args: [] } as unknown as (typeof p.flows)[string]['nodes'][number]['op'];
      p.flows['Writer.main']!.nodes[1]!.op = { kind: 'llm', op: 'dream', args: [[{ ref: 0 }]] } as unknown as (typeof p.flows)[string]['nodes'][number]['op'];
    });
    expect(messages(plan)).toEqual([
      'Writer.main %0 (Writer.main:ask->thesis): teleport: unknown op kind "teleport"',
      'Writer.main %1 (Writer.main:ask->outline): llm: unknown LLM op "dream"',
    ]);
  });

  it('with prev outside a fused chain or in its first step', () => {
    const fused = examplePlan('chain', 'O1');
    const plan = edited(fused, (p) => {
      const op = p.flows['Writer.main']!.nodes[0]!.op;
      if (op.kind === 'fused_llm') op.steps[0]!.args = [[{ prev: true }]];
    });
    expect(messages(plan)).toEqual(['Writer.main %0 (Writer.main:fused[ask->thesis,ask->outline,ask->draft,ask->tight,ask->final]): fused_llm step 1: "prev" is only valid in a fused chain\'s second step or later']);
    const plain = edited(chain, (p) => {
      p.flows['Writer.main']!.nodes[0]!.op = { kind: 'llm', op: 'ask', args: [[{ prev: true }]] };
    });
    expect(messages(plain)).toHaveLength(1);
  });

  it('with a tool the registry does not have', () => {
    const plan = examplePlan('tools', 'O1');
    expect(messages(plan, { tools: registry('fetch_page', 'web_search') })).toEqual([
      'Analyst.main %3 (Analyst.main:inv->sum): unknown tool "calculator": registered tools are fetch_page, web_search',
    ]);
    expect(messages(plan, { tools: registry() })).toHaveLength(3);
  });

  it('with an entry parameter missing from the inputs', () => {
    expect(messages(examplePlan('memory', 'O1'), { inputs: { user: 'ada' } })).toEqual(['entry Assistant.main needs input "message": missing --input message=...']);
  });

  it('with a bad hash', () => {
    const plan = edited(chain, (p) => {
      p.entry = 'Writer.main';
      p.compiler = 'tampered';
    }, false);
    expect(verifyPlanHash(plan)).toBe(false);
    expect(messages(plan)).toEqual(['plan hash mismatch: the plan was edited or corrupted since it was compiled']);
  });

  it('with a wrong format, a missing entry, or a missing callee', () => {
    expect(messages(edited(chain, (p) => void ((p as { format: string }).format = 'other.v9')))).toEqual(['not a plan: format is "other.v9", expected "flowmeter.plan.v1"']);
    expect(messages(edited(chain, (p) => void (p.entry = 'Nobody.main')))).toEqual(['entry flow "Nobody.main" is not in the plan']);
    const agents = edited(examplePlan('agents', 'O0'), (p) => void delete p.flows['Critic.review']);
    expect(messages(agents)).toEqual(['Coordinator.main %1 (Coordinator.main:Critic.review->critique): calls Critic.review, which is not in the plan']);
  });

  it('with an unknown memory space or an empty store', () => {
    const plan = edited(examplePlan('memory', 'O0'), (p) => {
      const op = p.flows['Assistant.main']!.nodes[0]!.op;
      if (op.kind === 'qmem') Object.assign(op, { space: 'disk', store: '' });
    });
    expect(messages(plan)).toEqual([
      'Assistant.main %0 (Assistant.main:qmem->profile): qmem: unknown memory space "disk"; expected stm, ltm, episodic',
      'Assistant.main %0 (Assistant.main:qmem->profile): qmem: qmem needs a store name',
    ]);
  });

  it('with a default that does not point at a switch', () => {
    const plan = edited(examplePlan('routing', 'O0'), (p) => {
      p.flows['Router.main']!.nodes[2]!.fallbackFor = 0;
    });
    expect(messages(plan)).toEqual(['Router.main %2 (Router.main:default(ask)->reply): is the default of %0 (Router.main:ask->category), which is not a switch']);
    const outOfRange = edited(examplePlan('routing', 'O0'), (p) => {
      p.flows['Router.main']!.nodes[2]!.fallbackFor = 9;
    });
    expect(messages(outOfRange)).toEqual(['Router.main %2 (Router.main:default(ask)->reply): is the default of %9, which is not another node of Router.main']);
  });

  it('with nodes that are not nodes, without throwing', () => {
    const plan = edited(chain, (p) => {
      (p.flows['Writer.main']!.nodes as unknown[])[2] = 'garbage';
    });
    expect(messages(plan)).toContain('Writer.main %2 (?): not a node');
  });
});
