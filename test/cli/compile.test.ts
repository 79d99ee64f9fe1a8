import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compilerVersion, normalizeOptArgs, parseOptLevel, registerCompile } from '../../src/cli/compile.js';
import { parsePlan } from '../../src/runtime/ir/artifact.js';
import { capture } from '../server/helpers.js';

const examples = join(import.meta.dirname, '..', '..', 'examples', 'workflows');
const chain = join(examples, 'chain.ais');
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'flowmeter-compile-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `flowmeter compile ...args` in-process as main.ts would: usage errors exit 2. */
function compile(...args: string[]): { code: number; stdout: string; stderr: string } {
  const io = capture();
  let code = 0;
  const cli = new Command('flowmeter')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });
  registerCompile(cli, io, (c) => (code = c));
  try {
    cli.parse(normalizeOptArgs(['compile', ...args]), { from: 'user' });
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    code = err.exitCode === 0 ? 0 : 2;
  }
  return { code, stdout: io.stdout.join('\n'), stderr: io.stderr.join('\n') };
}

function write(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe('flowmeter compile', () => {
  it('prints the -O1 IR by default', () => {
    const r = compile(chain);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toContain(`of ${chain} at -O1`);
    expect(r.stdout.match(/^ {2}%\d+ = /gm)).toHaveLength(1);
    expect(r.stdout).toContain('fused_llm [ask');
  });

  it.each([['-O0'], ['-O', '0'], ['--opt', 'O0'], ['--opt=0']])('compiles at -O0 with %s', (...flags) => {
    const r = compile(chain, ...flags);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('at -O0');
    expect(r.stdout.match(/^ {2}%\d+ = ask /gm)).toHaveLength(5);
  });

  it('accepts -O1 without normalizing argv too (commander reads an attached value)', () => {
    const io = capture();
    let level: string | undefined;
    const cli = new Command().exitOverride();
    registerCompile(cli, io, () => undefined);
    cli.commands[0]!.action((_file: string, opts: { opt: string }) => void (level = opts.opt));
    cli.parse(['compile', chain, '-O0'], { from: 'user' });
    expect(level).toBe('O0');
  });

  it.each([
    ['dot', (s: string) => expect(s.startsWith('digraph plan {')).toBe(true)],
    ['mermaid', (s: string) => expect(s.startsWith('flowchart TD')).toBe(true)],
    ['json', (s: string) => expect(parsePlan(`${s}\n`).optimization_level).toBe('O1')],
  ])('emits %s', (format, check) => {
    const r = compile(chain, '--emit', format);
    expect(r.code).toBe(0);
    check(r.stdout);
  });

  it('writes to -o instead of stdout', () => {
    const out = join(dir, 'chain.plan.json');
    const r = compile(chain, '--emit', 'json', '-o', out);
    expect(r).toEqual({ code: 0, stdout: '', stderr: '' });
    const plan = parsePlan(readFileSync(out, 'utf8'));
    expect(plan.compiler).toBe(compilerVersion());
  });

  it('prints warnings on stderr, one line each, and still succeeds', () => {
    const file = write('warn.ais', 'agent A {\n  @entry flow main() -> str {\n    ask("q") -> unused\n    return "x"\n  }\n}\n');
    const r = compile(file, '-O0');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`${file}:3:17: warning: value "unused" is never used`);
  });

  it('answers a compile error with file:line:col, the source line and carets, and exit 1', () => {
    const file = write('bad.ais', 'agent A {\n  @entry flow main() -> str {\n    ask("q", nope) -> r\n    return r\n  }\n}\n');
    const r = compile(file);
    expect(r).toEqual({ code: 1, stdout: '', stderr: `${file}:3:14: error: undefined variable "nope"\n    ask("q", nope) -> r\n             ^^^^` });
  });

  it('answers a file it cannot read with one line and exit 1', () => {
    const r = compile(join(dir, 'missing.ais'));
    expect(r).toEqual({ code: 1, stdout: '', stderr: `flowmeter: cannot read ${join(dir, 'missing.ais')}: no such file or directory` });
    expect(compile(dir).stderr).toBe(`flowmeter: cannot read ${dir}: is a directory`);
  });

  it('answers an output it cannot write with one line and exit 1', () => {
    const r = compile(chain, '-o', join(dir, 'no', 'such', 'dir', 'out.txt'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^flowmeter: cannot write .*out\.txt: no such file or directory$/);
  });

  it('treats an unknown level or format as a usage error (exit 2)', () => {
    expect(compile(chain, '-O2')).toMatchObject({ code: 2, stderr: expect.stringContaining('must be 0 or 1') as string });
    expect(compile(chain, '--emit', 'svg')).toMatchObject({ code: 2, stderr: expect.stringContaining('ir, dot, mermaid, json') as string });
    expect(compile()).toMatchObject({ code: 2 });
  });
});

describe('level helpers', () => {
  it('parses 0, 1, O0 and O1 in any case', () => {
    expect(['0', '1', 'O0', 'O1', 'o1', ' 1 '].map(parseOptLevel)).toEqual(['O0', 'O1', 'O0', 'O1', 'O1', 'O1']);
    expect(() => parseOptLevel('O2')).toThrow('must be 0 or 1');
    expect(() => parseOptLevel('')).toThrow();
  });

  it('splits a lone -O0/-O1 and leaves everything else, and all after --, alone', () => {
    expect(normalizeOptArgs(['run', 'w.ais', '-O1', '--input', 'x=-O0', '-Ox', '--', '-O0'])).toEqual(['run', 'w.ais', '-O', '1', '--input', 'x=-O0', '-O', 'x', '--', '-O0']);
  });
});
