import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { CliIo } from '../../src/cli/io.js';
import { createMeter } from '../../src/index.js';

function capture(): CliIo & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (l) => stdout.push(l), err: (l) => stderr.push(l) };
}

describe('flowmeter report and summary', () => {
  let dir: string;
  let runsDir: string;
  const summaries: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'flowmeter-cli-'));
    runsDir = join(dir, 'runs');
    const meter = createMeter({ runsDir, log: false });
    for (let i = 0; i < 5; i++) {
      const result = await meter.runSettled({ flowId: i < 3 ? 'alpha' : 'beta', runId: `run-${i}` }, async (run) => {
        await run.llmCall({ model: 'gpt-4o', provider: 'openai' }, () => ({ usage: { prompt_tokens: 100 * (i + 1), completion_tokens: 10 } }));
        if (i === 4) throw new Error('tool broke');
      });
      summaries.push(result.summary!);
    }
    await meter.close();
    // A folder whose run never finished (killed mid-run) has no run.json.
    mkdirSync(join(runsDir, 'run-killed'));
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('prints the snapshot table of every finished run', async () => {
    const io = capture();
    expect(await main(['report', '--runs-dir', runsDir], io)).toBe(0);
    const text = io.stdout.join('\n');
    expect(text).toMatch(/runs\s+5/);
    expect(text).toMatch(/success\|partial=0\s+4/);
    expect(text).toMatch(/tool_error\|partial=0\s+1/);
    expect(text).toContain('1 folder(s) without a finished run were skipped');
  });

  it('prints the snapshot as JSON with enzu keys, filtered by flow', async () => {
    const io = capture();
    expect(await main(['report', '--runs-dir', runsDir, '--json', '--flow', 'alpha'], io)).toBe(0);
    const snapshot = JSON.parse(io.stdout.join('\n')) as { total_runs: number; percentiles: { input_tokens: { p50: number } } };
    expect(snapshot.total_runs).toBe(3);
    expect(snapshot.percentiles.input_tokens.p50).toBeCloseTo(200, -1);
  });

  it('prints each run summary line as the SDK returned it', async () => {
    const io = capture();
    expect(await main(['summary', '--runs-dir', runsDir, '--last', '2'], io)).toBe(0);
    expect(io.stdout).toEqual([`run-3  ${summaries[3]}`, `run-4  ${summaries[4]}`]);
  });

  it('exits 1 with one line, no stack trace, for a missing runs folder', async () => {
    const io = capture();
    expect(await main(['report', '--runs-dir', join(dir, 'nope')], io)).toBe(1);
    expect(io.stderr).toHaveLength(1);
    expect(io.stderr[0]).toMatch(/^flowmeter: .*no such runs folder/);
  });

  it('exits 2 on a usage error', async () => {
    const io = capture();
    expect(await main(['summary', '--last', 'many'], io)).toBe(2);
    expect(io.stderr.join('\n')).toMatch(/positive integer/);
    expect(await main(['frobnicate'], capture())).toBe(2);
  });

  it('skips a run.json that is not JSON instead of failing the report', async () => {
    mkdirSync(join(runsDir, 'run-torn'));
    writeFileSync(join(runsDir, 'run-torn', 'run.json'), '{"run_id":');
    const io = capture();
    expect(await main(['report', '--runs-dir', runsDir], io)).toBe(0);
    expect(io.stdout.join('\n')).toContain('1 folder(s) without a finished run were skipped');
    expect(io.stderr.join('\n')).toMatch(/run-torn: run\.json unreadable: .*; skipped/);
  });
});
