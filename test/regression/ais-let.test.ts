/**
 * `let x = …;` as apxm writes it: a call (`let x = ask("…")` is `ask("…") -> x`) or a value
 * (`let q = "a " + t`, a data dependency like any other).
 */
import { describe, expect, it } from 'vitest';
import { compileSource } from '../../src/runtime/ais/index.js';
import { llmRequests } from '../../src/runtime/ir/count.js';
import { entryFlow, planOf } from '../runtime/ir/helpers.js';

const LET = `agent W {
  flow main(topic: str) -> str {
    let question = "What matters most about " + topic + "?";
    let notes = ask(question);
    let answer = ask("Answer using the notes", notes);
    return answer
  }
}
`;

describe('let', () => {
  it('binds a call like `-> name` and a value as a pure node; -O1 still fuses the ask chain', () => {
    const o0 = entryFlow(planOf(LET, 'O0'));
    expect(o0.nodes.map((n) => n.op.kind)).toEqual(['merge', 'llm', 'llm']);
    expect(o0.nodes[0]!.op).toEqual({ kind: 'merge', args: [[{ text: 'What matters most about ' }, { param: 'topic' }, { text: '?' }]] });
    expect(o0.nodes[1]!.op).toMatchObject({ kind: 'llm', op: 'ask', args: [[{ ref: 0 }]] });
    expect(llmRequests(planOf(LET, 'O0'))).toBe(2);
    expect(llmRequests(planOf(LET, 'O1'))).toBe(1);
  });

  it('binds a flow call, and an unused let is dead code at -O1', () => {
    const text = `agent A {\n  flow main(x: str) -> str {\n    let unused = "never read " + x\n    let r = B.f(x)\n    return r\n  }\n}\nagent B {\n  flow f(t: str) -> str {\n    ask("f " + t) -> o\n    return o\n  }\n}\n`;
    expect(entryFlow(planOf(text, 'O0')).nodes.map((n) => n.op.kind)).toEqual(['merge', 'call']);
    expect(entryFlow(planOf(text, 'O1')).nodes.map((n) => n.op.kind)).toEqual(['llm']);
  });

  it('says what is wrong once: a missing name, a missing =, an undefined value', () => {
    const errors = (body: string): string[] =>
      compileSource('t.ais', `agent A {\n  flow main(x: str) -> str {\n${body}\n    return x\n  }\n}\n`).diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.line}:${d.col} ${d.message}`);
    expect(errors('    let = "v"')).toEqual(["3:9 expected a name after let, found '='"]);
    expect(errors('    let v "x"')).toEqual(["3:11 expected '=', found a string"]);
    expect(errors('    let v = nope')).toEqual(['3:13 undefined variable "nope"']);
  });
});
