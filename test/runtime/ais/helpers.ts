import { compileSource, formatDiagnostics } from '../../../src/runtime/ais/index.js';
import type { CompileResult } from '../../../src/runtime/ais/index.js';
import type { Statement } from '../../../src/runtime/ais/ast.js';

export function compile(text: string, file = 'test.ais'): CompileResult {
  return compileSource(file, text);
}

/** Every diagnostic formatted as a user sees it. */
export function report(text: string, file = 'test.ais'): string {
  return formatDiagnostics(compile(text, file).diagnostics, text);
}

/** Only the `file:line:col: severity: message` headers, for multi-error assertions. */
export function headers(text: string, file = 'test.ais'): string[] {
  return compile(text, file).diagnostics.map((d) => `${d.file}:${d.line}:${d.col}: ${d.severity}: ${d.message}`);
}

/** Removes spans so a test can state the tree's shape; spans are tested separately. */
export function shape(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(shape);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (k !== 'span' && v !== undefined) out[k] = shape(v);
    return out;
  }
  return value;
}

/** The body of the entry flow of a one-agent program wrapping `body`. */
export function bodyOf(body: string, params = ''): readonly Statement[] {
  const r = compile(`agent A {\n  @entry flow main(${params}) -> str {\n${body}\n  }\n}\n`);
  const flow = r.ast?.agents[0]?.flows[0];
  if (flow === undefined) throw new Error(`no flow parsed: ${JSON.stringify(r.diagnostics)}`);
  return flow.body;
}

/** A small PRNG with a seed, so a failing random case can be replayed. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const name = (n: string): { name: string } => ({ name: n });
export const str = (value: string): { kind: 'string'; value: string } => ({ kind: 'string', value });
export const ref = (n: string): { kind: 'var'; name: string } => ({ kind: 'var', name: n });
