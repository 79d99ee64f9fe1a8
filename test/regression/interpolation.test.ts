/**
 * `"Double {{n}}"` is apxm's interpolation: a data dependency on `n`, exactly like
 * `"Double " + n`. It used to be sent as the literal text `{{n}}`, so the producer of `n`
 * looked unused and -O1's dead-code elimination removed it (a 10-step chain became 1 call).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import { compileSource, formatDiagnostics } from '../../src/runtime/ais/index.js';
import { llmRequests } from '../../src/runtime/ir/count.js';
import { planOf, program } from '../runtime/ir/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'flowmeter-interpolation-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A chain of `n` asks, each interpolating the previous answer. */
function chain(n: number, style: 'interpolate' | 'concat'): string {
  const lines = ['    ask("Start from " + x) -> s0'];
  for (let i = 1; i < n; i++) lines.push(style === 'interpolate' ? `    ask("Double {{s${i - 1}}} please") -> s${i}` : `    ask("Double " + s${i - 1} + " please") -> s${i}`);
  lines.push(`    return s${n - 1}`);
  return program(lines.join('\n'));
}

async function run(source: string, level: 'O0' | 'O1'): Promise<{ code: number; stdout: string[]; stderr: string[]; metrics: Record<string, unknown> }> {
  const file = join(dir, `p${Math.random().toString(36).slice(2)}.ais`);
  writeFileSync(file, source);
  const stdout: string[] = [];
  const stderr: string[] = [];
  const io: CliIo = { out: (l) => stdout.push(l), err: (l) => stderr.push(l) };
  const metricsFile = `${file}.metrics.json`;
  const code = await main(['run', file, `-${level}`, '--dry-run', '--time-scale', '0.01', '--quiet', '--no-cache', '--runs-dir', join(dir, 'runs'), '--input', 'x=seed', '--emit-metrics', metricsFile], io);
  const { readFileSync } = await import('node:fs');
  const metrics = code === 0 ? (JSON.parse(readFileSync(metricsFile, 'utf8')) as Record<string, unknown>) : {};
  return { code, stdout, stderr, metrics };
}

describe('{{name}} interpolation', () => {
  it('lowers to the same plan as the concatenation, at -O0 and -O1', () => {
    for (const level of ['O0', 'O1'] as const) {
      const interpolated = planOf(chain(10, 'interpolate'), level);
      const concatenated = planOf(chain(10, 'concat'), level);
      expect(llmRequests(interpolated)).toBe(llmRequests(concatenated));
      expect(Object.values(interpolated.flows).map((f) => f.nodes.length)).toEqual(Object.values(concatenated.flows).map((f) => f.nodes.length));
    }
    // -O0 keeps every ask; -O1 fuses the dependent chain (ask-chain fusion), but never drops a step as dead.
    expect(llmRequests(planOf(chain(10, 'interpolate'), 'O0'))).toBe(10);
  });

  it('keeps the producer of an interpolated name alive through dead-code elimination', () => {
    const source = program('    ask("Name a number") -> n\n    ask("Double {{n}}") -> d\n    return d');
    const o1 = planOf(source, 'O1');
    // Without the dependency, -O1 deleted the first ask as unused.
    expect(llmRequests(o1)).toBeGreaterThanOrEqual(1);
    const text = JSON.stringify(o1);
    expect(text).toContain('Name a number');
    expect(text).not.toContain('{{n}}');
  });

  it('runs at -O0 with both requests and at -O1 with the requests its plan counts', async () => {
    const source = program('    ask("Name a number about " + x) -> n\n    ask("Double {{ n }} and say {{x}}.") -> d\n    return d');
    const o0 = await run(source, 'O0');
    const o1 = await run(source, 'O1');
    expect(o0.stderr).toEqual([]);
    expect(o0.code).toBe(0);
    expect(o1.code).toBe(0);
    const requests = (m: Record<string, unknown>): unknown => (m.llm as { total_requests?: number } | undefined)?.total_requests;
    expect(requests(o0.metrics)).toBe(2);
    expect(requests(o1.metrics)).toBe(llmRequests(planOf(source, 'O1')));
  });

  it('reports an unknown interpolated name as an unknown variable at the string', () => {
    const source = program('    ask("Double {{missing}}") -> d\n    return d');
    const r = compileSource('t.ais', source);
    expect(r.program).toBeUndefined();
    const text = formatDiagnostics(r.diagnostics, source);
    expect(text).toMatch(/t\.ais:4:\d+: error: undefined variable .*missing/);
  });

  it('leaves braces that are not a placeholder as text', () => {
    const source = program('    ask("JSON like {\\"a\\": 1} and {{ not a name }}") -> d\n    return d');
    const plan = planOf(source, 'O0');
    expect(JSON.stringify(plan)).toContain('{{ not a name }}');
  });
});
