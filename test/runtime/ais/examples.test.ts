import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileSource, formatDiagnostics } from '../../../src/runtime/ais/index.js';

const EXAMPLES = new URL('../../../examples/workflows/', import.meta.url);

describe.each(['research', 'chain', 'tools', 'memory', 'routing', 'agents'])('examples/workflows/%s.ais', (name) => {
  it('compiles with no errors and no warnings', () => {
    const text = readFileSync(new URL(`${name}.ais`, EXAMPLES), 'utf8');
    const r = compileSource(`${name}.ais`, text);
    expect(formatDiagnostics(r.diagnostics, text)).toBe('');
    expect(r.program?.entry.flow.name.name).toBe('main');
  });
});

describe('the example workflows show what they are named for', () => {
  const load = (name: string): ReturnType<typeof compileSource> =>
    compileSource(name, readFileSync(new URL(name, EXAMPLES), 'utf8'));

  it('chain.ais is five asks, each reading the result of the one before', () => {
    const body = load('chain.ais').program!.entry.flow.body.filter((s) => s.kind === 'op');
    expect(body.map((s) => s.op.name)).toEqual(['ask', 'ask', 'ask', 'ask', 'ask']);
    const results = body.map((s) => s.result!.name);
    body.slice(1).forEach((s, i) => expect(JSON.stringify(s.args)).toContain(`"name":"${results[i]}"`));
  });

  it('agents.ais has several agents and cross-agent calls', () => {
    const program = load('agents.ais').program!;
    expect(program.program.agents.length).toBeGreaterThanOrEqual(3);
    expect(program.entry.flow.body.some((s) => s.kind === 'op' && s.agent !== undefined)).toBe(true);
  });
});
