/**
 * Runs apxm's own programs through flowmeter: every `.ais` file and every ```ais code block
 * of the Markdown files under the folders given (checkouts of apxm's repository), compiled
 * and dry-run at -O0 and -O1. Per program it prints compile and run status, the plan's node
 * count and the LLM requests the run made; then the totals. Nothing is copied: the programs
 * stay in the checkout, code blocks go to a temporary folder while the script runs.
 *
 *   npm run build && npx tsx scripts/apxm-corpus.ts ../apxm [../apxm-benchmarks] [--json]
 *
 * A program that needs inputs gets `sample` for every parameter of its entry flow. Files
 * under a folder named `errors`, and files that say they are `INTENTIONALLY BROKEN`, are
 * expected to fail: they pass when compile exits 1 with a `file:line:col:` diagnostic first.
 * A code block with no `agent` is a fragment of statements, which apxm's own front end
 * rejects too (a program is a list of agents): it is listed, and not counted.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative, resolve } from 'node:path';

const CLI = resolve(import.meta.dirname, '..', 'bin', 'flowmeter.js');

interface Program {
  /** Where it came from: a file, or `file.md#n` for the n-th code block. */
  readonly name: string;
  readonly path: string;
  readonly expectError: boolean;
  readonly fragment: boolean;
}

interface LevelResult {
  readonly compiled: boolean;
  readonly nodes?: number;
  readonly ran?: boolean;
  readonly requests?: number;
  readonly maxParallelism?: number;
  readonly error?: string;
}

interface Row {
  readonly program: string;
  readonly expectError: boolean;
  readonly fragment: boolean;
  readonly O0: LevelResult;
  readonly O1: LevelResult;
  /** For an error file: the first diagnostic line. */
  readonly diagnostic?: string;
}

function walk(dir: string, out: string[]): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const name = entry.name;
    if (name === 'node_modules' || name.startsWith('.') || name === 'target') continue;
    const path = join(dir, name);
    if (entry.isDirectory()) walk(path, out);
    else if (entry.isFile() && (name.endsWith('.ais') || name.endsWith('.md'))) out.push(path);
  }
}

function collect(roots: readonly string[], scratch: string): Program[] {
  const programs: Program[] = [];
  for (const root of roots) {
    const files: string[] = [];
    walk(root, files);
    for (const file of files.sort()) {
      const name = `${basename(resolve(root))}/${relative(root, file)}`;
      if (file.endsWith('.ais')) {
        const expectError = file.split('/').includes('errors') || readFileSync(file, 'utf8').includes('INTENTIONALLY BROKEN');
        programs.push({ name, path: file, expectError, fragment: false });
        continue;
      }
      const blocks = [...readFileSync(file, 'utf8').matchAll(/^```ais[^\n]*\n([\s\S]*?)^```/gm)];
      blocks.forEach((m, i) => {
        const path = join(scratch, `${programs.length}.ais`);
        const text = m[1] ?? '';
        writeFileSync(path, text);
        programs.push({ name: `${name}#${i + 1}`, path, expectError: false, fragment: !/\bagent\s+[A-Za-z_]/.test(text) });
      });
    }
  }
  return programs;
}

function cli(args: readonly string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** The first error line of a diagnostic output (warnings come before it when they are earlier in the file). */
function firstLine(text: string): string {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  return lines.find((l) => / error: /.test(l)) ?? lines[0] ?? '';
}

interface PlanJson {
  readonly entry: string;
  readonly flows: Record<string, { readonly params: readonly string[]; readonly nodes: readonly unknown[] }>;
}

function runLevel(p: Program, level: 'O0' | 'O1', scratch: string): LevelResult {
  const compiled = cli(['compile', `-${level}`, '--emit', 'json', p.path]);
  if (compiled.status !== 0) return { compiled: false, error: firstLine(compiled.stderr) };
  const plan = JSON.parse(compiled.stdout) as PlanJson;
  const nodes = Object.values(plan.flows).reduce((n, f) => n + f.nodes.length, 0);
  const params = plan.flows[plan.entry]?.params ?? [];
  const metrics = join(scratch, `metrics-${level}.json`);
  rmSync(metrics, { force: true });
  const inputs = params.flatMap((name) => ['--input', `${name}=sample`]);
  const ran = cli(['run', `-${level}`, '--dry-run', '--quiet', '--no-cache', '--time-scale', '0.001', '--db', 'off', '--runs-dir', join(scratch, 'runs'), '--emit-metrics', metrics, ...inputs, p.path]);
  if (ran.status !== 0) return { compiled: true, nodes, ran: false, error: firstLine(ran.stderr) };
  const m = JSON.parse(readFileSync(metrics, 'utf8')) as { llm: { total_requests: number }; scheduler: { max_parallelism: number } };
  return { compiled: true, nodes, ran: true, requests: m.llm.total_requests, maxParallelism: m.scheduler.max_parallelism };
}

function check(p: Program, scratch: string): Row {
  if (p.fragment) {
    const skipped: LevelResult = { compiled: false };
    return { program: p.name, expectError: false, fragment: true, O0: skipped, O1: skipped };
  }
  if (p.expectError) {
    const r = cli(['compile', p.path]);
    const diagnostic = firstLine(r.stderr);
    const ok = r.status === 1 && /^[^:]+:\d+:\d+: /.test(diagnostic);
    const level: LevelResult = { compiled: !ok, ...(ok ? {} : { error: `expected a diagnostic and exit 1, got exit ${r.status}` }) };
    return { program: p.name, expectError: true, fragment: false, O0: level, O1: level, diagnostic };
  }
  return { program: p.name, expectError: false, fragment: false, O0: runLevel(p, 'O0', scratch), O1: runLevel(p, 'O1', scratch) };
}

function cell(r: LevelResult): string {
  if (!r.compiled) return 'compile error';
  if (r.ran !== true) return `${r.nodes} nodes, run error`;
  return `${r.nodes} nodes, ${r.requests} req, par ${r.maxParallelism}`;
}

function main(argv: readonly string[]): number {
  const json = argv.includes('--json');
  const roots = argv.filter((a) => a !== '--json');
  if (roots.length === 0) {
    process.stderr.write('usage: tsx scripts/apxm-corpus.ts <apxm checkout> [more folders] [--json]\n');
    return 2;
  }
  const scratch = mkdtempSync(join(tmpdir(), 'apxm-corpus-'));
  try {
    const all = collect(roots, scratch).map((p) => check(p, scratch));
    const rows = all.filter((r) => !r.fragment);
    const good = (r: Row): boolean => (r.expectError ? !r.O0.compiled : r.O0.ran === true && r.O1.ran === true);
    if (json) {
      process.stdout.write(JSON.stringify(all, null, 2) + '\n');
    } else {
      for (const r of rows) {
        const status = good(r) ? 'ok  ' : 'FAIL';
        if (r.expectError) process.stdout.write(`${status} ${r.program}\n       expected error: ${r.diagnostic}\n`);
        else {
          process.stdout.write(`${status} ${r.program}\n       -O0: ${cell(r.O0)}   -O1: ${cell(r.O1)}\n`);
          const error = r.O0.error ?? r.O1.error;
          if (error !== undefined) process.stdout.write(`       ${error}\n`);
        }
      }
      for (const r of all.filter((x) => x.fragment)) process.stdout.write(`--   ${r.program}\n       a fragment of statements (no agent): not a program, for apxm either\n`);
      process.stdout.write(`\n${rows.filter(good).length} of ${rows.length} programs pass (${all.length - rows.length} fragments not counted)\n`);
    }
    return rows.every(good) ? 0 : 1;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

process.exitCode = main(process.argv.slice(2));
