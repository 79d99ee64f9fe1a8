/**
 * Workflow-runtime bugs found in review, each with the program that showed it, run through
 * `flowmeter run` at -O0 and -O1 (the two must agree).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';

const dir = mkdtempSync(join(tmpdir(), 'flowmeter-runtime-regression-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let count = 0;
async function run(source: string, level: 'O0' | 'O1', args: string[]): Promise<{ code: number; stdout: string[]; stderr: string[] }> {
  const file = join(dir, `p${++count}.ais`);
  writeFileSync(file, source);
  const stdout: string[] = [];
  const stderr: string[] = [];
  const io: CliIo = { out: (l) => stdout.push(l), err: (l) => stderr.push(l) };
  const code = await main(['run', file, `-${level}`, '--dry-run', '--time-scale', '0.01', '--quiet', '--no-cache', '--runs-dir', join(dir, 'runs'), ...args], io);
  // The last line is the summary; the rest are prints and the return value.
  return { code, stdout: stdout.filter((l) => !l.startsWith('Execution time:')), stderr };
}

const LEVELS = ['O0', 'O1'] as const;

describe('workflow runtime regressions', () => {
  for (const level of LEVELS) {
    it(`-${level}: a graph is not finished while a called flow is still running`, async () => {
      const r = await run(
        `agent A {\n  @entry flow main(x: str) -> str {\n    B.f(x) -> r\n    umem(x, "stm")\n    print("got " + r)\n    return "r=" + r\n  }\n}\nagent B {\n  flow f(p: str) -> str {\n    print("in f")\n    return p\n  }\n}\n`,
        level,
        ['--input', 'x=hello'],
      );
      expect(r.code).toBe(0);
      expect(r.stdout).toEqual(['in f', 'got hello', 'r=hello']);
    });

    it(`-${level}: prints keep their order past a switch default that is skipped`, async () => {
      const r = await run(
        `agent A {\n  @entry flow main(x: str) -> str {\n    ask("slow", x) -> s\n    print("1")\n    print("2 " + s)\n    switch x {\n      case "a" => merge(x)\n      default => print("3a")\n    } -> r1\n    switch x {\n      case "b" => merge(x)\n      default => print("3b")\n    } -> r2\n    return r1 + r2\n  }\n}\n`,
        level,
        ['--input', 'x=a'],
      );
      expect(r.code).toBe(0);
      expect(r.stdout.map((l) => l.split(' ')[0])).toEqual(['1', '2', '3b', 'a3b']);
    });

    it(`-${level}: a read after a skipped default still waits for the writes before it`, async () => {
      const r = await run(
        `agent A {\n  @entry flow main(x: str) -> str {\n    ask("slow", x) -> s\n    umem(s + " zzz", "stm")\n    switch x {\n      case "a" => merge(x)\n      default => umem("from default zzz", "stm")\n    } -> r1\n    qmem("zzz", "stm") -> seen\n    return "seen=" + seen\n  }\n}\n`,
        level,
        ['--input', 'x=a'],
      );
      expect(r.code).toBe(0);
      expect(r.stdout.at(-1)).toMatch(/^seen=.* zzz$/);
    });

    it(`-${level}: a switch case that calls a flow does not deadlock under --concurrency 1`, async () => {
      const r = await run(
        `agent A {\n  @entry flow main(x: str) -> str {\n    switch x {\n      case "a" => B.f(x)\n      default => print("default")\n    } -> r\n    return "r=" + r\n  }\n}\nagent B {\n  flow f(x: str) -> str {\n    ask("say hi", x) -> y\n    return y\n  }\n}\n`,
        level,
        ['--input', 'x=a', '--concurrency', '1', '--timeout', '5000'],
      );
      expect(r.stderr).toEqual([]);
      expect(r.code).toBe(0);
      expect(r.stdout.at(-1)).toMatch(/^r=sim#/);
    });

    it(`-${level}: a switch default does not run when the switch's input failed`, async () => {
      const r = await run(
        `agent A {\n  @entry flow main(x: str) -> str {\n    ask("classify", x) -> c\n    switch c {\n      case "a" => print("case a")\n      default => print("DEFAULT")\n    } -> r\n    return r\n  }\n}\n`,
        level,
        ['--input', 'x=a', '--fail-rate', '1', '--retries', '0'],
      );
      expect(r.code).toBe(1);
      expect(r.stdout).not.toContain('DEFAULT');
    });

    it(`-${level}: a switch without a default that matches nothing fails the run, even if its value is unused`, async () => {
      const r = await run(`agent A {\n  @entry flow main(x: str) -> str {\n    switch x {\n      case "a" => merge(x)\n    } -> unused\n    return x\n  }\n}\n`, level, ['--input', 'x=zz']);
      expect(r.code).toBe(1);
      expect(r.stderr.join('\n')).toMatch(/matches no case/);
    });
  }

  it('a missing --config file is one line, not a stack trace', async () => {
    const r = await run(`agent A {\n  @entry flow main(x: str) -> str {\n    return x\n  }\n}\n`, 'O1', ['--input', 'x=1', '--config', join(dir, 'nope.json')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toHaveLength(1);
    expect(r.stderr[0]).toMatch(/^flowmeter: .*nope\.json/);
  });
});
