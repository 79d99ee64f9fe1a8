/**
 * The workflow compiler per node: a chain of dependent asks (the shape -O1 fuses into one
 * request, which was quadratic before) and a wide flow of independent asks, at 1k, 10k and
 * 100k statements, at -O0 (front end and lowering) and -O1 (plus inline, DCE, CSE and
 * fusion), each beside TypeScript's parser (`ts.createSourceFile`) reading the same number
 * of statements written as TypeScript: a mature hand-written front end as the yardstick.
 * ns per node should stay flat from 1k to 100k; a pass that grows faster shows here.
 *
 * Then hostile inputs of 1 MB (binary, a JavaScript file, 100k lines of `ask(`), timed
 * through `flowmeter compile` in-process, against the goal of an answer within 2 s.
 * Run alone: `npx tsx bench/index.ts compile --print`.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { main } from '../src/cli/main.js';
import { compilePlan } from '../src/runtime/ir/compile-plan.js';
import type { OptLevel } from '../src/runtime/ir/plan.js';
import type { BenchResult } from './harness.js';
import { round, withPeer } from './harness.js';

type Shape = 'chain' | 'wide';
const SIZES = [1_000, 10_000, 100_000] as const;

function aisSource(shape: Shape, n: number): string {
  const lines = ['agent A {', '  @entry flow main(x: str) -> str {'];
  for (let i = 0; i < n; i++) lines.push(`    ask("step ${i}: " + ${shape === 'chain' && i > 0 ? `y${i - 1}` : 'x'}) -> y${i}`);
  if (shape === 'chain') lines.push(`    return y${n - 1}`);
  else lines.push(`    merge(${Array.from({ length: n }, (_, i) => `y${i}`).join(', ')}) -> all`, '    return all');
  lines.push('  }', '}');
  return `${lines.join('\n')}\n`;
}

function tsSource(shape: Shape, n: number): string {
  const lines = ['declare function ask(p: string): string;', 'export function main(x: string): string {'];
  for (let i = 0; i < n; i++) lines.push(`  const y${i} = ask("step ${i}: " + ${shape === 'chain' && i > 0 ? `y${i - 1}` : 'x'});`);
  lines.push(shape === 'chain' ? `  return y${n - 1};` : `  return [${Array.from({ length: n }, (_, i) => `y${i}`).join(', ')}].join("");`, '}');
  return `${lines.join('\n')}\n`;
}

/** Median wall time of `rounds` runs of `body`, after one warm-up run, in ns. */
async function timeMedian(body: () => unknown, rounds: number): Promise<number> {
  await body();
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const start = process.hrtime.bigint();
    await body();
    times.push(Number(process.hrtime.bigint() - start));
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

function compileOnce(text: string, level: OptLevel, expectRequests: number): void {
  const r = compilePlan('bench.ais', text, level, 'bench');
  const passes = r.plan?.passes ?? [];
  const requests = passes.at(-1)?.llmAfter;
  if (r.plan === undefined) throw new Error(`bench source does not compile: ${r.diagnostics[0]?.message ?? '?'}`);
  if (level === 'O1' && requests !== expectRequests) throw new Error(`-O1 made ${String(requests)} requests, expected ${expectRequests}`);
}

function hostileInputs(): { name: string; content: string | Buffer }[] {
  const bytes = Buffer.alloc(1024 * 1024);
  let x = 0x13;
  for (let i = 0; i < bytes.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    bytes[i] = (x & 0xff) || 1;
  }
  const js = readFileSync(createRequire(import.meta.url).resolve('typescript/lib/typescript.js'), 'utf8').slice(0, 1024 * 1024);
  return [
    { name: '1 MB of binary (no NUL byte)', content: bytes },
    { name: '1 MB of JavaScript', content: js },
    { name: '100k lines of `ask(` in a flow', content: `agent A {\n  @entry flow main() {\n${'    ask(\n'.repeat(100_000)}` },
  ];
}

export async function benchCompile(): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  for (const shape of ['chain', 'wide'] as const) {
    for (const n of SIZES) {
      const ais = aisSource(shape, n);
      const tsText = tsSource(shape, n);
      const rounds = n >= 100_000 ? 3 : 5;
      const peer = (await timeMedian(() => ts.createSourceFile('bench.ts', tsText, ts.ScriptTarget.ES2022, false), rounds)) / n;
      for (const level of ['O0', 'O1'] as const) {
        const ns = (await timeMedian(() => compileOnce(ais, level, shape === 'chain' ? 1 : n), rounds)) / n;
        results.push(
          withPeer(`compile ${shape} -${level} ${n / 1000}k (per node)`, ns, 'typescript createSourceFile (parse only)', peer, {
            note: `${(ns / 1e6).toFixed(4)} ms per node, ${((ns * n) / 1e6).toFixed(0)} ms for ${n.toLocaleString('en-US')} statements`,
          }),
        );
      }
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'flowmeter-bench-compile-'));
  try {
    for (const input of hostileInputs()) {
      const file = join(dir, 'input.ais');
      writeFileSync(file, input.content);
      const io = { out: (): void => undefined, err: (): void => undefined };
      const ns = await timeMedian(() => main(['compile', file], io), 3);
      results.push({ name: `compile ${input.name}`, ns_per_op: round(ns), goal_ns: 2e9, note: `${(ns / 1e6).toFixed(0)} ms to answer (goal: within 2 s)` });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}
