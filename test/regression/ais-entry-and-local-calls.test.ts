/**
 * apxm's files leave out `@entry` when the flow to run is obvious and call a flow of the same
 * agent without the agent's name. Both are accepted; a file whose real error is another one
 * no longer gets "no @entry flow" first.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { capture } from '../server/helpers.js';
import { compileSource } from '../../src/runtime/ais/index.js';
import { llmRequests } from '../../src/runtime/ir/count.js';
import { planOf } from '../runtime/ir/helpers.js';

const errors = (text: string): string[] => compileSource('t.ais', text).diagnostics.filter((d) => d.severity === 'error').map((d) => d.message);

const SOLO = `agent Solo {
  flow main(topic: str) -> str {
    helper(topic) -> notes
    ask("Summarize", notes) -> answer
    return answer
  }
  flow helper(t: str) -> str {
    ask("Notes on " + t) -> n
    return n
  }
}`;

describe('the entry flow without @entry', () => {
  it("is the program's only flow", () => {
    const plan = planOf('agent W {\n  flow write(idea: str) -> str {\n    ask("About " + idea) -> t\n    return t\n  }\n}\n');
    expect(plan.entry).toBe('W.write');
    expect(plan.flows[plan.entry]!.params).toEqual(['idea']);
  });

  it('is the only flow of the only single-flow agent', () => {
    const text = `agent Lead {\n  flow run(goal: str) -> str {\n    Helper.a(goal) -> x\n    return x\n  }\n}\nagent Helper {\n  flow a(g: str) -> str {\n    ask("a " + g) -> r\n    return r\n  }\n  flow b(g: str) -> str {\n    return g\n  }\n}\n`;
    expect(planOf(text).entry).toBe('Lead.run');
  });

  it('is the only flow named main', () => {
    expect(planOf(SOLO).entry).toBe('Solo.main');
  });

  it('is still marked @entry when there is a mark, and two marks are an error', () => {
    const marked = SOLO.replace('flow helper', '@entry flow helper');
    expect(planOf(marked).entry).toBe('Solo.helper');
    expect(errors(marked.replace('flow main', '@entry flow main'))).toEqual([expect.stringMatching(/^more than one @entry flow/)]);
  });

  it('is an error, naming the candidates, when nothing tells which flow runs', () => {
    const text = `agent A {\n  flow one(x: str) -> str {\n    return x\n  }\n  flow two(x: str) -> str {\n    return x\n  }\n}\n`;
    expect(errors(text)).toEqual(['no @entry flow: mark the flow to run with @entry (one of A.one, A.two)']);
  });

  it('is not reported first when the file has a real error', () => {
    const text = `agent A {\n  flow one(x: str) -> str {\n    return zzz\n  }\n  flow two(x: str) -> str {\n    return x\n  }\n}\n`;
    expect(errors(text)).toEqual(['undefined variable "zzz"']);
  });
});

describe('calling a flow of the same agent without its name', () => {
  it('is that flow: -O0 keeps the call, -O1 inlines and fuses it', () => {
    const o0 = planOf(SOLO, 'O0');
    expect(Object.keys(o0.flows).sort()).toEqual(['Solo.helper', 'Solo.main']);
    expect(llmRequests(o0)).toBe(2);
    expect(llmRequests(planOf(SOLO, 'O1'))).toBe(1);
  });

  it('checks the arity like a qualified call', () => {
    expect(errors(SOLO.replace('helper(topic) -> notes', 'helper(topic, topic) -> notes'))).toEqual(['flow Solo.helper takes 1 argument, got 2']);
  });

  it('leaves a declared capability of the same name a capability', () => {
    const text = SOLO.replace('agent Solo {', 'agent Solo {\n  capability helper(q: str) -> str;\n  tools: [helper]');
    const plan = planOf(text, 'O0');
    expect(Object.keys(plan.flows)).toEqual(['Solo.main']);
  });

  it('is a tool invocation when no flow has the name (apxm: INV), its arguments named input, arg1, …', () => {
    const text = SOLO.replace('helper(topic) -> notes', 'lookup(topic, "en") -> notes');
    expect(errors(text)).toEqual([]);
    const node = planOf(text, 'O0').flows['Solo.main']!.nodes[0]!;
    expect(node.op).toMatchObject({ kind: 'tool', via: 'capability', tool: 'lookup', params: ['input', 'arg1'] });
  });
});

describe('a tool no module provides', () => {
  it('is simulated in a dry run with one warning naming it, and refused before a live run starts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flowmeter-tool-'));
    try {
      const file = join(dir, 'tool.ais');
      writeFileSync(file, 'agent Analyst {\n  flow main(q: str) -> str {\n    lookup(q) -> facts\n    ask("Answer " + q + " with", facts) -> a\n    return a\n  }\n}\n');
      const dry = capture();
      expect(await main(['run', file, '--dry-run', '--input', 'q=tides', '--runs-dir', join(dir, 'runs'), '--quiet'], dry)).toBe(0);
      expect(dry.stderr).toEqual(['flowmeter: warning: no tool module provides "lookup"; simulated in this dry run (a live run needs them)']);
      const live = capture();
      expect(await main(['run', file, '--provider', 'simulated', '--input', 'q=tides', '--runs-dir', join(dir, 'runs'), '--quiet'], live)).toBe(1);
      expect(live.stderr.join('\n')).toContain('unknown tool "lookup"');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
