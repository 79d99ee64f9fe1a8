/**
 * Issue 13, item 7: a chain of cross-agent calls failed with `internal compiler error:
 * Maximum call stack size exceeded` about 2,000 levels deep at -O1 (every pass over the
 * call graph recursed), and with V8's `Exception in PromiseRejectCallback` about 380
 * levels deep at -O0 (a call's graph was started in the caller's synchronous stack). Now
 * nothing recurses per level: 10,000 levels compile and run at both levels, a cycle that
 * long is one short error, and inlining that would explode is refused at the call with
 * `file:line:col`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import { compilePlan } from '../../src/runtime/ir/compile-plan.js';
import { MAX_INLINED_NODES } from '../../src/runtime/ir/limits.js';

const DEPTH = 10_000;
const HANG_GUARD_MS = 20_000;

const dir = mkdtempSync(join(tmpdir(), 'flowmeter-deep-calls-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A0.main calls A1.f calls A2.f ... calls A{depth-1}.f, which asks; each returns what it got, plus a mark. */
function deepChain(depth: number, { viaSwitch = false, cycle = false } = {}): string {
  const call = (i: number): string => {
    const target = cycle && i === depth ? 'A1' : `A${i}`;
    return viaSwitch ? `    switch x {\n      case "go" => ${target}.f(x)\n      default => merge(x)\n    } -> r` : `    ${target}.f(x) -> r`;
  };
  const out = ['agent A0 {', '  @entry flow main(x: str) -> str {', call(1), '    return r', '  }', '}'];
  for (let i = 1; i < depth; i++) {
    const last = i === depth - 1;
    const body = last && !cycle ? '    ask("answer " + x) -> r' : call(i + 1);
    out.push(`agent A${i} {`, '  flow f(x: str) -> str {', body, last && !cycle ? '    return r' : '    return r + "."', '  }', '}');
  }
  return `${out.join('\n')}\n`;
}

let count = 0;
async function cli(source: string, args: readonly string[]): Promise<{ code: number; stdout: string[]; stderr: string[]; ms: number; file: string }> {
  const file = join(dir, `deep${++count}.ais`);
  writeFileSync(file, source);
  const stdout: string[] = [];
  const stderr: string[] = [];
  const io: CliIo = { out: (l) => stdout.push(l), err: (l) => stderr.push(l) };
  const t0 = performance.now();
  const code = await main([...args.slice(0, 1), file, ...args.slice(1)], io);
  return { code, stdout, stderr, ms: performance.now() - t0, file };
}

const RUN = ['--dry-run', '--quiet', '--no-cache', '--time-scale', '0.001', '--seed', '7', '--input', 'x=go'];

describe(`a chain of cross-agent calls ${DEPTH.toLocaleString('en-US')} levels deep`, () => {
  it('compiles at -O0, one flow per agent, and at -O1 into one ask', () => {
    const text = deepChain(DEPTH);
    const o0 = compilePlan('deep.ais', text, 'O0', 'test');
    expect(o0.diagnostics).toEqual([]);
    expect(Object.keys(o0.plan!.flows)).toHaveLength(DEPTH);
    const o1 = compilePlan('deep.ais', text, 'O1', 'test');
    expect(o1.diagnostics).toEqual([]);
    expect(o1.plan!.passes[0]).toEqual({ pass: 'inline', nodesBefore: DEPTH, nodesAfter: 1, llmBefore: 1, llmAfter: 1 });
    const entry = o1.plan!.flows[o1.plan!.entry]!;
    expect(entry.nodes.map((n) => n.op.kind)).toEqual(['llm']);
    // Every level's `+ "."` survives inlining: the return value is the answer and 9,998 dots.
    expect(entry.output).toEqual([{ ref: 0 }, { text: '.'.repeat(DEPTH - 2) }]);
  });

  it('runs at -O0 and at -O1 with the same answer', async () => {
    const o0 = await cli(deepChain(DEPTH), ['run', '-O0', ...RUN, '--runs-dir', join(dir, 'runs0')]);
    expect(o0.stderr).toEqual([]);
    expect(o0.code).toBe(0);
    expect(o0.ms).toBeLessThan(HANG_GUARD_MS);
    const o1 = await cli(deepChain(DEPTH), ['run', '-O1', ...RUN, '--runs-dir', join(dir, 'runs1')]);
    expect(o1.code).toBe(0);
    const answer = o0.stdout.filter((l) => !l.startsWith('Execution time:'));
    expect(answer).toHaveLength(1);
    expect(answer[0]!.endsWith('.'.repeat(DEPTH - 2))).toBe(true);
    expect(o1.stdout.filter((l) => !l.startsWith('Execution time:'))).toEqual(answer);
  });

  it('runs at -O1 when every call sits in a switch case (calls that are not inlined)', async () => {
    const r = await cli(deepChain(DEPTH, { viaSwitch: true }), ['run', '-O1', ...RUN, '--runs-dir', join(dir, 'runs2')]);
    expect(r.stderr).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.stdout.filter((l) => !l.startsWith('Execution time:'))[0]!.endsWith('.'.repeat(DEPTH - 2))).toBe(true);
  });

  it('reports a cycle that long as one error at the call that closes it, with the path shortened', async () => {
    const r = await cli(deepChain(DEPTH, { cycle: true }), ['compile']);
    expect(r.code).toBe(1);
    expect(r.stderr).toHaveLength(1);
    const [header] = r.stderr[0]!.split('\n');
    const line = 6 * (DEPTH - 1) + 3;
    expect(header).toBe(`${r.file}:${line}:5: error: cycle in flow calls: A1.f -> A2.f -> A3.f -> A4.f -> ... 9,992 more ... -> A9997.f -> A9998.f -> A9999.f -> A1.f`);
  });
});

describe('inlining that would explode', () => {
  it(`is refused at the entry's call with file:line:col when a flow would pass ${MAX_INLINED_NODES.toLocaleString('en-US')} nodes`, async () => {
    // Each level calls the next twice: 2^24 copies of the last ask at -O1.
    const levels = 25;
    const out = ['agent A0 {', '  @entry flow main(x: str) -> str {', '    A1.f(x) -> a', '    A1.f(a) -> b', '    return b', '  }', '}'];
    for (let i = 1; i < levels; i++) {
      const body = i === levels - 1 ? ['    ask("answer " + x) -> b'] : [`    A${i + 1}.f(x) -> a`, `    A${i + 1}.f(a) -> b`];
      out.push(`agent A${i} {`, '  flow f(x: str) -> str {', ...body, '    return b', '  }', '}');
    }
    const r = await cli(`${out.join('\n')}\n`, ['compile', '-O1']);
    expect(r.code).toBe(1);
    expect(r.ms).toBeLessThan(HANG_GUARD_MS);
    expect(r.stderr[0]!.split('\n')[0]).toBe(
      `${r.file}:3:5: error: inlining A1.f here gives A0.main 16,777,216 nodes, over the limit of 1,000,000 (a flow's nodes are copied at every call): call shared flows from fewer places, or compile with -O0`,
    );
    // At -O0 nothing is copied: the same program compiles.
    expect((await cli(`${out.join('\n')}\n`, ['compile', '-O0'])).code).toBe(0);
  });
});
