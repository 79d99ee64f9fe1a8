/** `return ask("…")` and apxm's other names for built-in ops (`llm`, `wait_all`, `invoke`, `query_memory`, …). */
import { describe, expect, it } from 'vitest';
import { compileSource } from '../../src/runtime/ais/index.js';
import { llmRequests } from '../../src/runtime/ir/count.js';
import { entryFlow, planOf } from '../runtime/ir/helpers.js';

const errors = (text: string): string[] => compileSource('t.ais', text).diagnostics.map((d) => `${d.severity}: ${d.message}`);

describe('return of a call', () => {
  it('runs the call and returns its answer', () => {
    const text = 'agent A {\n  flow main(x: str) -> str {\n    ask("Outline " + x) -> o\n    return ask("Write from", o)\n  }\n}\n';
    expect(errors(text)).toEqual([]);
    const o0 = entryFlow(planOf(text, 'O0'));
    expect(o0.nodes.map((n) => n.op.kind)).toEqual(['llm', 'llm']);
    expect(o0.output).toEqual([{ ref: 1 }]);
    expect(llmRequests(planOf(text, 'O1'))).toBe(1);
  });

  it('returns a flow call', () => {
    const text = 'agent A {\n  flow main(x: str) -> str {\n    return B.f(x)\n  }\n}\nagent B {\n  flow f(t: str) -> str {\n    return llm("f " + t)\n  }\n}\n';
    expect(errors(text)).toEqual([]);
    expect(llmRequests(planOf(text, 'O1'))).toBe(1);
  });
});

describe("apxm's op names", () => {
  it('are the built-in ops they stand for', () => {
    const text = [
      'agent A {',
      '  flow main(x: str) -> str {',
      '    llm("a " + x) -> a',
      '    query_memory(x, "stm") -> m',
      '    wait_all(a, m) -> both',
      '    update_memory(both, "stm")',
      '    invoke("search", "{\\"query\\": \\"tides\\"}") -> hits',
      '    return both + hits',
      '  }',
      '}',
      '',
    ].join('\n');
    expect(errors(text)).toEqual([]);
    expect(entryFlow(planOf(text, 'O0')).nodes.map((n) => (n.op.kind === 'llm' ? n.op.op : n.op.kind))).toEqual(['ask', 'qmem', 'merge', 'umem', 'tool']);
  });
});
