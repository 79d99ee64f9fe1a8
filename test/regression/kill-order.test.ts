import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * Issue 13.12: after kill -9, metrics.jsonl could be ahead of events.jsonl (12-17 lines in
 * 4 of 10 trials), so `flowmeter serve` (which reads events.jsonl) and the files disagreed.
 * events.jsonl is now written first, so it holds every call metrics.jsonl holds.
 */
const dir = mkdtempSync(join(tmpdir(), 'flowmeter-kill-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const writer = join(import.meta.dirname, 'fixtures', 'busy-writer.ts');

function calls(file: string, kind: (o: Record<string, unknown>) => boolean): number {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return 0;
  }
  let n = 0;
  for (const line of text.split('\n')) {
    try {
      if (kind(JSON.parse(line) as Record<string, unknown>)) n++;
    } catch {
      // A torn last line (the kill landed inside a write) is no record in either file.
    }
  }
  return n;
}

async function killMidRun(runsDir: string, afterMs: number): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', writer, runsDir], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`writer exited early with ${String(code)}`)));
  });
  await new Promise((resolve) => setTimeout(resolve, afterMs));
  const exited = new Promise((resolve) => child.on('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

describe('kill -9 in the middle of writing', () => {
  it('leaves events.jsonl with every call metrics.jsonl has, in every run folder', async () => {
    const trials = [40, 90, 150];
    await Promise.all(trials.map((ms, i) => killMidRun(join(dir, `runs-${i}`), ms)));
    let folders = 0;
    for (let i = 0; i < trials.length; i++) {
      const runsDir = join(dir, `runs-${i}`);
      for (const run of readdirSync(runsDir)) {
        folders++;
        const inEvents = calls(join(runsDir, run, 'events.jsonl'), (o) => o.kind === 'llm_call');
        const inMetrics = calls(join(runsDir, run, 'metrics.jsonl'), (o) => o.event === 'llm_call');
        expect(inEvents, run).toBeGreaterThanOrEqual(inMetrics);
      }
    }
    expect(folders).toBeGreaterThan(trials.length);
  }, 30_000);
});
