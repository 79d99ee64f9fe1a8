import { describe, expect, it } from 'vitest';
import { bodyOf, compile, headers, name, ref, shape, str } from './helpers.js';

describe('parse: declarations', () => {
  it('parses the DESIGN.md example on one line', () => {
    const r = compile('agent A { @entry flow main(x: str) -> str { ask("..." + x) -> y  return y } }');
    expect(r.diagnostics).toEqual([]);
    expect(shape(r.ast)).toEqual({
      kind: 'program',
      file: 'test.ais',
      agents: [{
        kind: 'agent', name: name('A'), capabilities: [], tools: [], memory: [],
        declarations: { discoverable: [], goals: [], beliefs: [], handlers: [] },
        flows: [{
          kind: 'flow', name: name('main'), entry: true, returnType: name('str'),
          params: [{ kind: 'param', name: name('x'), type: name('str') }],
          body: [
            { kind: 'op', op: name('ask'), args: [{ kind: 'concat', parts: [str('...'), ref('x')] }], result: name('y') },
            { kind: 'return', value: ref('y') },
          ],
        }],
      }],
    });
  });

  it('accepts the short form flow main { ... } with no parameters and no return type', () => {
    const r = compile('agent A { @entry flow main { print("hi") } }');
    expect(r.diagnostics).toEqual([]);
    const flow = r.ast!.agents[0]!.flows[0]!;
    expect(shape(flow)).toEqual({ kind: 'flow', name: name('main'), entry: true, params: [], body: [
      { kind: 'op', op: name('print'), args: [str('hi')] },
    ] });
  });

  it('parses several agents with capabilities, tools and memory blocks', () => {
    const r = compile(`
      agent A {
        capability search(q: str, n: str) -> str;
        tools: [search]
        memory { session: STM, notes: LTM }
        @entry flow main { search("a", "b") -> r  return r }
      }
      agent B { flow g(x: str) -> str { return x } }`);
    expect(r.diagnostics).toEqual([]);
    const [a, b] = r.ast!.agents;
    expect(shape(a!.capabilities)).toEqual([{
      kind: 'capability', name: name('search'), returnType: name('str'),
      params: [{ kind: 'param', name: name('q'), type: name('str') }, { kind: 'param', name: name('n'), type: name('str') }],
    }]);
    expect(shape(a!.tools)).toEqual([name('search')]);
    expect(shape(a!.memory)).toEqual([{ kind: 'memory', entries: [
      { kind: 'memory_entry', name: name('session'), tier: name('STM') },
      { kind: 'memory_entry', name: name('notes'), tier: name('LTM') },
    ] }]);
    expect(b!.name.name).toBe('B');
    expect(b!.flows[0]!.entry).toBe(false);
  });
});

describe('parse: statements', () => {
  it('parses an op call with a result and one without', () => {
    expect(shape(bodyOf('think("t", x) -> y\nprint(y)', 'x: str'))).toEqual([
      { kind: 'op', op: name('think'), args: [str('t'), ref('x')], result: name('y') },
      { kind: 'op', op: name('print'), args: [ref('y')] },
    ]);
  });

  it('parses merge, inv, qmem and umem as op calls', () => {
    expect(shape(bodyOf('merge(a, b, c) -> m inv("calc", "{}") -> v qmem("k", "stm") -> q umem(m, "ltm")'))).toEqual([
      { kind: 'op', op: name('merge'), args: [ref('a'), ref('b'), ref('c')], result: name('m') },
      { kind: 'op', op: name('inv'), args: [str('calc'), str('{}')], result: name('v') },
      { kind: 'op', op: name('qmem'), args: [str('k'), str('stm')], result: name('q') },
      { kind: 'op', op: name('umem'), args: [ref('m'), str('ltm')] },
    ]);
  });

  it('parses a cross-agent call with the agent name kept apart from the flow name', () => {
    expect(shape(bodyOf('Other.run(x) -> r', 'x: str'))).toEqual([
      { kind: 'op', agent: name('Other'), op: name('run'), args: [ref('x')], result: name('r') },
    ]);
  });

  it('parses a switch with cases, a default and a result', () => {
    const [s] = bodyOf('switch v {\n case "a" => ask("A", v)\n case "b" => B.h(v)\n default => think("?")\n} -> out', 'v: str');
    expect(shape(s)).toEqual({
      kind: 'switch', subject: ref('v'), result: name('out'),
      cases: [
        { kind: 'case', label: str('a'), call: { kind: 'op', op: name('ask'), args: [str('A'), ref('v')] } },
        { kind: 'case', label: str('b'), call: { kind: 'op', agent: name('B'), op: name('h'), args: [ref('v')] } },
      ],
      default: { kind: 'op', op: name('think'), args: [str('?')] },
    });
  });

  it('flattens a + b + c into one concat and returns it', () => {
    expect(shape(bodyOf('return "a" + x + "c"', 'x: str'))).toEqual([
      { kind: 'return', value: { kind: 'concat', parts: [str('a'), ref('x'), str('c')] } },
    ]);
  });

  it('gives a statement a span from its op to its result name', () => {
    const [s] = bodyOf('    ask("q") -> answer');
    expect(s!.span).toEqual({ line: 3, col: 5, endLine: 3, endCol: 23 });
  });

  it('accepts optional semicolons between statements', () => {
    expect(bodyOf('print("a"); print("b");')).toHaveLength(2);
  });
});

describe('parse: syntax errors', () => {
  it('reports a missing parenthesis with the exact position and caret', () => {
    const text = 'agent A {\n  @entry flow main {\n    ask("a" "b") -> y\n  }\n}\n';
    expect(compile(text).diagnostics.map((d) => `${d.line}:${d.col}-${d.endCol} ${d.message}`)).toEqual([
      '3:13-16 expected \')\', found a string',
    ]);
  });

  it('recovers at the next statement and reports every syntax error in the file', () => {
    const text = [
      'agent A {',
      '  @entry flow main(x: str) -> str {',
      '    ask("a" "b") -> y',
      '    think(x -> z',
      '    print(x) ->',
      '    return x',
      '  }',
      '  bogus',
      '  flow g( { }',
      '}',
      'agent { }',
      'agent B { @entry flow h { print("x") } }',
    ].join('\n');
    expect(headers(text)).toEqual([
      "test.ais:3:13: error: expected ')', found a string",
      "test.ais:4:13: error: expected ')', found '->'",
      "test.ais:6:5: error: expected a variable name after '->', found 'return'",
      'test.ais:8:3: error: expected \'flow\', \'capability\', \'tools\', \'memory\', \'context\', \'discoverable\', \'goals\', \'beliefs\' or \'on\', found identifier "bogus"',
      'test.ais:9:11: error: expected a parameter name, found \'{\'',
      "test.ais:11:7: error: expected an agent name, found '{'",
    ]);
    // Recovery kept the statement after the broken ones and the agent after the broken one.
    expect(compile(text).ast!.agents.map((a) => a.name.name)).toEqual(['A', 'B']);
  });

  it('reports a missing closing brace at the next declaration instead of swallowing it', () => {
    expect(headers('agent A {\n  @entry flow main {\n    print("x")\n  flow g { print("y") }\n}')).toEqual([
      'test.ais:4:3: error: expected \'}\' to close flow "main", found \'flow\'',
    ]);
  });

  it('reports end of file inside an agent', () => {
    expect(headers('agent A {')).toEqual([
      'test.ais:1:10: error: expected \'}\' to close agent "A", found end of file',
    ]);
  });

  it('rejects a result bound inside a case and an unknown attribute', () => {
    expect(headers('agent A {\n @main flow f { switch x { case "a" => ask("q") -> r } } }')).toEqual([
      'test.ais:2:3: error: unknown attribute @main: only @entry is supported',
      'test.ais:2:49: error: a case cannot bind a result: write `} -> name` after the switch instead',
    ]);
  });
});
