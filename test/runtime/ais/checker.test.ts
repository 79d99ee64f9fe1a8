import { describe, expect, it } from 'vitest';
import { compile, headers, report } from './helpers.js';

/** Wraps statements in an entry flow `main(x: str)` of agent A; line 3 is the first statement. */
function inMain(body: string, members = ''): string {
  return `agent A {${members}\n  @entry flow main(x: str) -> str {\n${body}\n  }\n}\n`;
}

describe('check: one diagnostic each, with position and caret', () => {
  it('reports an undefined variable', () => {
    expect(report(inMain('    ask("q", nope) -> y\n    return y'))).toBe(
      'test.ais:3:14: error: undefined variable "nope"\n    ask("q", nope) -> y\n             ^^^^',
    );
  });

  it('treats a variable bound later as undefined where it is used', () => {
    expect(headers(inMain('    print(y)\n    ask("q") -> y\n    return y'))).toEqual([
      'test.ais:3:11: error: undefined variable "y"',
    ]);
  });

  it('reports a memory space that is not stm, ltm or episodic', () => {
    expect(report(inMain('    qmem("k", "disk") -> m\n    return m'))).toBe(
      'test.ais:3:15: error: unknown memory space "disk": expected "stm", "ltm" or "episodic"\n' +
        '    qmem("k", "disk") -> m\n              ^^^^^^',
    );
  });

  it('accepts a memory space named in the memory block, and rejects an unknown tier there', () => {
    expect(headers(inMain('    umem(x, "session")\n    return x', '\n  memory { session: STM, disk: SSD }'))).toEqual([
      'test.ais:2:32: error: unknown memory tier "SSD": expected STM, LTM or EPISODIC',
    ]);
  });

  it('reports an empty capability name in inv', () => {
    expect(report(inMain('    inv("", "{}") -> r\n    return r'))).toBe(
      'test.ais:3:9: error: inv: empty capability name\n    inv("", "{}") -> r\n        ^^',
    );
  });

  it('reports an LLM op with an empty template and no context', () => {
    expect(report(inMain('    reason("") -> r\n    return r'))).toBe(
      'test.ais:3:12: error: reason has an empty template and no context\n    reason("") -> r\n           ^^',
    );
  });

  it('reports an LLM op with no template at all', () => {
    expect(headers(inMain('    plan() -> p\n    return p'))).toEqual(['test.ais:3:5: error: plan needs a template argument']);
  });

  it('accepts an empty template when context follows', () => {
    expect(headers(inMain('    ask("", x) -> r\n    return r'))).toEqual([]);
  });

  it('reports a switch with no cases at the switch keyword', () => {
    expect(report(inMain('    switch x { default => ask("d") } -> r\n    return r'))).toBe(
      'test.ais:3:5: error: switch on "x" has no cases\n    switch x { default => ask("d") } -> r\n    ^^^^^^',
    );
  });

  it('reports an unknown agent and an unknown flow of a known agent', () => {
    const text = inMain('    Nobody.run(x) -> a\n    B.missing(x) -> b\n    return a + b') + 'agent B { flow g(y: str) -> str { return y } }\n';
    expect(report(text)).toBe([
      'test.ais:3:5: error: unknown agent "Nobody"',
      '    Nobody.run(x) -> a',
      '    ^^^^^^',
      'test.ais:4:7: error: agent "B" has no flow "missing"',
      '    B.missing(x) -> b',
      '      ^^^^^^^',
    ].join('\n'));
  });

  it('accepts a call to an undeclared name as a tool invocation (apxm lowers it to INV)', () => {
    expect(report(inMain('    search(x) -> r\n    return r'))).toBe('');
  });

  it('reports a declared capability that is missing from tools: [...]', () => {
    expect(headers(inMain('    search(x) -> r\n    return r', '\n  capability search(q: str) -> str;'))).toEqual([
      'test.ais:4:5: error: capability "search" is not listed in tools: [...] of agent "A"',
    ]);
  });

  it('reports a tools entry that names no capability and a wrong capability arity', () => {
    const members = '\n  capability search(q: str) -> str;\n  tools: [search, ghost]';
    expect(headers(inMain('    search(x, x) -> r\n    return r', members))).toEqual([
      'test.ais:3:19: error: tools: "ghost" is not a declared capability of agent "A"',
      'test.ais:5:5: error: capability "search" takes 1 argument, got 2',
    ]);
  });

  it('reports a cycle of cross-agent calls at the call that closes it', () => {
    const text = [
      'agent A { @entry flow f(x: str) -> str { B.g(x) -> r  return r } }',
      'agent B { flow g(x: str) -> str { A.f(x) -> r  return r } }',
    ].join('\n');
    expect(report(text)).toBe(
      'test.ais:2:35: error: cycle in flow calls: A.f -> B.g -> A.f\n' +
        'agent B { flow g(x: str) -> str { A.f(x) -> r  return r } }\n' +
        '                                  ^^^',
    );
  });

  it('reports a redefinition, since values are single-assignment', () => {
    expect(headers(inMain('    ask("a") -> x\n    return x'))).toEqual([
      'test.ais:3:17: error: "x" is already defined at 2:20: values are single-assignment',
    ]);
  });

  it('requires exactly one entry flow: marked, or the one flow nothing else could be', () => {
    // The only flow is the entry without a mark (apxm's files rely on it).
    expect(headers('agent A { flow f { print("x") } }')).toEqual([]);
    expect(headers('agent A { flow f { print("x") } flow g { print("y") } }')).toEqual([
      'test.ais:1:1: error: no @entry flow: mark the flow to run with @entry (one of A.f, A.g)',
    ]);
    // One @entry per agent, as apxm's parser requires; across agents the first in the file runs.
    expect(headers('agent A { @entry flow f { print("x") }\n @entry flow g { print("y") } }')).toEqual([
      'test.ais:2:14: error: more than one @entry flow in agent "A": f is already its entry',
    ]);
    expect(headers('agent A { @entry flow f { print("x") } }\nagent B { @entry flow g { print("y") } }')).toEqual([]);
  });

  it('reports duplicate agents and flows and wrong built-in arities', () => {
    const text = 'agent A { @entry flow f { qmem("k") -> a print(a) -> b merge() -> c print(b + c) } flow f { print("") } }\nagent A { }';
    expect(headers(text)).toEqual([
      'test.ais:1:27: error: qmem takes a key and a memory space ("stm", "ltm" or "episodic")',
      'test.ais:1:54: error: print produces no value to bind',
      'test.ais:1:56: error: merge needs at least one value',
      'test.ais:1:89: error: duplicate flow "f"',
      'test.ais:2:7: error: duplicate agent "A"',
    ]);
  });
});

describe('check: several problems and warnings', () => {
  it('reports every semantic error in one file, in source order', () => {
    const text = inMain(['    ask("") -> a', '    qmem("k", "disk") -> b', '    inv("") -> c', '    return a + b + c + d'].join('\n'));
    expect(headers(text)).toEqual([
      'test.ais:3:9: error: ask has an empty template and no context',
      'test.ais:4:15: error: unknown memory space "disk": expected "stm", "ltm" or "episodic"',
      'test.ais:5:9: error: inv: empty capability name',
      'test.ais:6:24: error: undefined variable "d"',
    ]);
    expect(compile(text).program).toBeUndefined();
  });

  it('warns about an unused value without failing the program', () => {
    const text = inMain('    ask("a", x) -> unused\n    return x');
    const r = compile(text);
    expect(report(text)).toBe('test.ais:3:20: warning: value "unused" is never used\n    ask("a", x) -> unused\n                   ^^^^^^');
    expect(r.program?.entry.flow.name.name).toBe('main');
  });

  it('runs no semantic checks on a file with syntax errors, to avoid follow-on noise', () => {
    expect(headers(inMain('    ask("a" -> y\n    print(nope)'))).toEqual([
      "test.ais:3:13: error: expected ')', found '->'",
    ]);
  });

  it('returns the entry agent and flow of a clean program', () => {
    const r = compile('agent A { flow h { print("h") } }\nagent B { @entry flow main(q: str) { A.h() print(q) } }');
    expect(r.diagnostics).toEqual([]);
    expect([r.program?.entry.agent.name.name, r.program?.entry.flow.name.name]).toEqual(['B', 'main']);
  });
});
