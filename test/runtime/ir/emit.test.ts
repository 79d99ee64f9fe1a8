import { describe, expect, it } from 'vitest';
import { EMIT_FORMATS, emitPlan } from '../../../src/runtime/ir/emit.js';
import { dotString, mermaidLabel } from '../../../src/runtime/ir/emit-graph.js';
import { parsePlan } from '../../../src/runtime/ir/artifact.js';
import type { Plan } from '../../../src/runtime/ir/plan.js';
import { examplePlan, exampleNames, planOf, program } from './helpers.js';

/** Splits dot text into quoted strings (unescaped) and other tokens, checking quotes close. */
function dotTokens(dot: string): string[] {
  const tokens: string[] = [];
  for (let i = 0; i < dot.length; ) {
    const c = dot[i]!;
    if (/\s/.test(c)) i++;
    else if (c === '"') {
      let s = '';
      for (i++; dot[i] !== '"'; i++) {
        if (i >= dot.length) throw new Error('unterminated string');
        if (dot[i] === '\\') s += dot[++i] === 'n' ? '\n' : dot[i];
        else s += dot[i];
      }
      i++;
      tokens.push(`"${s}`);
    } else if (dot.startsWith('->', i)) {
      tokens.push('->');
      i += 2;
    } else if (/[{}[\];=,]/.test(c)) tokens.push(dot[i++]!);
    else {
      const m = /^[A-Za-z0-9_.#]+/.exec(dot.slice(i));
      if (m === null) throw new Error(`unexpected ${c}`);
      tokens.push(m[0]);
      i += m[0].length;
    }
  }
  return tokens;
}

/** Checks braces balance and every edge endpoint is declared; returns declared ids and edges. */
function parseDot(dot: string): { nodes: Set<string>; edges: [string, string][] } {
  const t = dotTokens(dot);
  expect(t.slice(0, 3)).toEqual(['digraph', 'plan', '{']);
  let depth = 0;
  for (const tok of t) {
    if (tok === '{') depth++;
    if (tok === '}') depth--;
    expect(depth).toBeGreaterThanOrEqual(0);
  }
  expect(depth).toBe(0);
  const nodes = new Set<string>();
  const edges: [string, string][] = [];
  t.forEach((tok, i) => {
    if (tok.startsWith('"') && t[i + 1] === '[' && t[i - 1] !== '->') nodes.add(tok.slice(1));
    if (tok === '->') edges.push([t[i - 1]!.slice(1), t[i + 1]!.slice(1)]);
  });
  for (const [from, to] of edges) {
    expect(nodes, `edge ${from} -> ${to}`).toContain(from);
    expect(nodes, `edge ${from} -> ${to}`).toContain(to);
  }
  return { nodes, edges };
}

describe('emit ir', () => {
  it('prints one line per node with refs, params, after edges, label and position', () => {
    const text = emitPlan(examplePlan('memory', 'O0'), 'ir');
    expect(text.split('\n').filter((l) => l.startsWith('  %'))).toEqual([
      '  %0 = qmem[ltm] $user ; Assistant.main:qmem->profile @ 9:5',
      '  %1 = qmem[session:stm] $user + ":history" ; Assistant.main:qmem->history @ 10:5',
      '  %2 = qmem[episodic] $message ; Assistant.main:qmem->similar @ 11:5',
      '  %3 = ask "Reply to the user\'s message", $message, %0, %1, %2 ; Assistant.main:ask->reply @ 12:5',
      '  %4 = umem[stm] $message + "\\n" + %3 [effect] ; Assistant.main:umem @ 13:5',
      '  %5 = umem[episodic] $message + "\\n" + %3 [after %2] [effect] ; Assistant.main:umem @ 14:5',
      '  %6 = reflect "Trace: Extract any lasting fact about the user", $message [effect] ; Assistant.main:reflect->fact @ 15:5',
      '  %7 = umem[facts:ltm] %6 [effect] ; Assistant.main:umem @ 16:5',
    ]);
    expect(text).toContain('@entry flow Assistant.main(user, message) {\n');
    expect(text).toContain('  return %3\n}\n');
  });

  it('shows fused steps with prev, a default, and the pass statistics', () => {
    const chain = emitPlan(examplePlan('chain', 'O1'), 'ir');
    expect(chain).toContain('  %0 = fused_llm [ask "Turn this idea into a one-line thesis: " + $idea -> thesis; ask "Outline an essay arguing: " + prev -> outline;');
    expect(chain).toContain(';   fuse   nodes 5 -> 1, llm requests 5 -> 1\n');
    expect(emitPlan(examplePlan('routing', 'O0'), 'ir')).toContain('$ticket [default of %1] ; Router.main:default(ask)->reply @ 8:18');
  });
});

describe('emit dot', () => {
  it.each(exampleNames())('renders %s as a well-formed digraph with every node declared', (name) => {
    const plan = examplePlan(name.replace(/\.ais$/, ''), 'O0');
    const { nodes } = parseDot(emitPlan(plan, 'dot'));
    const expected = Object.values(plan.flows).reduce((sum, f) => sum + f.nodes.length + 1, 0); // + one return per flow
    expect(nodes.size).toBe(expected);
  });

  it('draws after edges dashed, a default dotted and a call bold', () => {
    expect(emitPlan(examplePlan('memory', 'O0'), 'dot')).toContain('"Assistant.main/2" -> "Assistant.main/5" [style=dashed];');
    expect(emitPlan(examplePlan('routing', 'O0'), 'dot')).toContain('"Router.main/1" -> "Router.main/2" [style=dotted, label="default"];');
    expect(emitPlan(examplePlan('agents', 'O0'), 'dot')).toContain('"Researcher.gather/return" -> "Coordinator.main/0" [style=bold, label="call"];');
  });

  it('escapes quotes, backslashes and newlines in labels', () => {
    expect(dotString('say "hi"\\n\nnext')).toBe('"say \\"hi\\"\\\\n\\nnext"');
    const plan = planOf(program('    ask("a \\"quoted\\" \\\\ path\\nline") -> r\n    return r'));
    const { nodes } = parseDot(emitPlan(plan, 'dot'));
    expect(nodes).toEqual(new Set(['A.main/0', 'A.main/return']));
  });
});

describe('emit mermaid', () => {
  it.each(exampleNames())('renders %s as a flowchart whose edges join declared nodes', (name) => {
    const text = emitPlan(examplePlan(name.replace(/\.ais$/, ''), 'O1'), 'mermaid');
    expect(text.startsWith('flowchart TD\n')).toBe(true);
    const declared = new Set([...text.matchAll(/^ {4}(n\d+)[[({]/gm)].map((m) => m[1]));
    const edges = [...text.matchAll(/^ {2}(n\d+) (?:-->|-\.->|-\. default \.->|== call ==>) (n\d+)$/gm)];
    expect(edges.length).toBeGreaterThan(0);
    for (const [, from, to] of edges) {
      expect(declared).toContain(from);
      expect(declared).toContain(to);
    }
    expect(text.match(/^ {2}subgraph /gm)?.length).toBe(text.match(/^ {2}end$/gm)?.length);
  });

  it('escapes characters that would end or break a label', () => {
    expect(mermaidLabel('a "b" #1 <i>\nx')).toBe('"a #quot;b#quot; #35;1 #lt;i#gt;<br/>x"');
    const text = emitPlan(planOf(program('    ask("say \\"hi\\" #now") -> r\n    return r')), 'mermaid');
    const label = /n0\["(.*)"\]/.exec(text)?.[1];
    expect(label).toBeDefined();
    expect(label).not.toContain('"');
  });
});

describe('emit', () => {
  it.each(EMIT_FORMATS)('is deterministic for %s and ends with a newline', (format) => {
    const a = emitPlan(examplePlan('agents', 'O0'), format);
    expect(emitPlan(examplePlan('agents', 'O0'), format)).toBe(a);
    expect(a.endsWith('\n')).toBe(true);
  });

  it('writes the plan itself for json', () => {
    const plan: Plan = examplePlan('tools', 'O1');
    expect(parsePlan(emitPlan(plan, 'json'))).toEqual(plan);
  });
});
