import { describe, expect, it } from 'vitest';
import { llmRequests } from '../../../src/runtime/ir/count.js';
import { validatePlan } from '../../../src/runtime/ir/validate.js';
import { dataDeps } from '../../../src/runtime/ir/plan.js';
import { entryFlow, examplePlan, exampleNames, nodeByLabel } from './helpers.js';

describe.each(exampleNames().map((f) => f.replace(/\.ais$/, '')))('examples/workflows/%s.ais', (name) => {
  it.each(['O0', 'O1'] as const)('compiles at -%s to a valid plan', (level) => {
    const plan = examplePlan(name, level);
    expect(plan.optimization_level).toBe(level);
    expect(validatePlan(plan)).toEqual([]);
    for (const flow of Object.values(plan.flows)) {
      for (const n of flow.nodes) for (const d of [...dataDeps(n.op), ...n.after]) expect(d).toBeLessThan(n.id);
    }
  });

  it('makes no more LLM requests at -O1 than at -O0', () => {
    expect(llmRequests(examplePlan(name, 'O1'))).toBeLessThanOrEqual(llmRequests(examplePlan(name, 'O0')));
  });
});

describe('memory.ais', () => {
  const flow = entryFlow(examplePlan('memory', 'O0'));

  it('orders each write after the reads of its store that came before it', () => {
    // umem(..., "episodic") after qmem(message, "episodic") -> similar: write after read.
    const similar = nodeByLabel(flow, ':qmem->similar');
    const writes = flow.nodes.filter((n) => n.op.kind === 'umem');
    expect(writes.map((n) => n.op.kind === 'umem' && [n.op.space, n.op.store, n.after])).toEqual([
      ['stm', 'stm', []],
      ['episodic', 'episodic', [similar.id]],
      ['ltm', 'facts', []], // "facts" is its own store, apart from the "ltm" tier literal
    ]);
  });

  it('resolves the session entry to its STM tier', () => {
    expect(nodeByLabel(flow, ':qmem->history').op).toMatchObject({ kind: 'qmem', space: 'stm', store: 'session' });
  });

  it('keeps the writes at -O1 and drops nothing that is read', () => {
    const o1 = entryFlow(examplePlan('memory', 'O1'));
    expect(o1.nodes.map((n) => n.op.kind)).toEqual(['qmem', 'qmem', 'qmem', 'llm', 'umem', 'umem', 'llm', 'umem']);
  });
});

describe('routing.ais', () => {
  it.each(['O0', 'O1'] as const)('has a switch node and a default node that stands in for it at -%s', (level) => {
    const flow = entryFlow(examplePlan('routing', level));
    const sw = nodeByLabel(flow, ':switch->reply');
    expect(sw.op.kind === 'switch' && sw.op.cases.map((c) => c.label)).toEqual(['billing', 'bug']);
    const fallback = nodeByLabel(flow, ':default(ask)->reply');
    expect(fallback.fallbackFor).toBe(sw.id);
    // Readers of `reply` read the switch; the scheduler routes the default's answer to them.
    expect(flow.output).toEqual([{ ref: sw.id }]);
    expect(nodeByLabel(flow, ':print').effect).toBe(true);
  });
});
