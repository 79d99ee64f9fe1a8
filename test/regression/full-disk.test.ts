import { execFileSync } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createMeter } from '../../src/meter/index.js';
import { openAiResponse } from '../meter/fixtures.js';

/**
 * Issue 13.1: a write that hit ENOSPC left part of a line, and when space came back the
 * next batch was appended onto the fragment (`…_1c1a{"event":"llm_call",…`), so `jq -s`
 * failed on the whole file. Run on a real, small tmpfs that fills and frees.
 */
// Mounting needs root and CAP_SYS_ADMIN (CI's container has both); elsewhere the suite is skipped.
const mount = mkdtempSync(join(tmpdir(), 'flowmeter-full-'));
const mounted = ((): boolean => {
  if (process.getuid?.() !== 0) return false;
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mount], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

function fill(path: string): void {
  // Fill until the file system refuses, large writes first, then byte by byte.
  const fd = openSync(path, 'w');
  try {
    for (const size of [65536, 4096, 256, 1]) {
      const chunk = Buffer.alloc(size, 0x78);
      for (;;) {
        try {
          if (writeSync(fd, chunk) < size) break;
        } catch {
          break;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
}

function linesOf(path: string): string[] {
  const text = readFileSync(path, 'utf8');
  expect(text === '' || text.endsWith('\n')).toBe(true);
  return text.split('\n').filter((line) => line !== '');
}

afterAll(() => {
  if (mounted) execFileSync('umount', [mount]);
  rmSync(mount, { recursive: true, force: true });
});

describe.skipIf(!mounted)('a full disk', () => {

  it('never leaves a torn line in metrics.jsonl, events.jsonl or the log, and resumes on a line boundary', async () => {
    const runsDir = join(mount, 'runs');
    const logPath = join(mount, 'logs', 'app.log');
    // No store: its file would sit beside the runs folder on this 256 KiB disk and take, at a
    // moment that depends on timing, the space the test gives back for run.json.
    const meter = createMeter({ runsDir, store: false, log: { destination: { path: logPath } }, prometheus: false, env: {}, onWarning: () => undefined });
    // Model names long enough that a batch is many pages: a write then fails part-way.
    const model = `gpt-4o-${'x'.repeat(300)}`;
    const calls = async (run: ReturnType<typeof meter.flowStart>, n: number): Promise<void> => {
      for (let i = 0; i < n; i++) await run.llmCall({ model }, () => openAiResponse(10, 5));
      await meter.flush();
    };
    const run = meter.flowStart({ runId: 'full-disk-run', flowId: 'f' });
    await calls(run, 5);
    // Fill the disk, then give back a little: the next batch fits only in part.
    fill(join(mount, 'filler'));
    const spare = join(mount, 'spare');
    rmSync(join(mount, 'filler'));
    fill(join(mount, 'filler'));
    fill(spare);
    rmSync(spare);
    await calls(run, 200);
    expect(meter.diagnostics().sink_errors).toMatchObject({ jsonl: expect.any(Number) as number, log: expect.any(Number) as number });
    // Space comes back; the same run's files are appended to.
    rmSync(join(mount, 'filler'));
    await calls(run, 7);
    run.flowEnd(true);
    await meter.close();

    const dir = join(runsDir, 'full-disk-run');
    const metrics = linesOf(join(dir, 'metrics.jsonl')).map((line) => JSON.parse(line) as { event: string });
    const events = linesOf(join(dir, 'events.jsonl')).map((line) => JSON.parse(line) as { kind: string });
    // The calls after the disk freed are all there, whole: the last 7 lines are theirs.
    expect(metrics.length).toBeGreaterThanOrEqual(12);
    expect(metrics.slice(-7).every((m) => m.event === 'llm_call')).toBe(true);
    expect(events.at(-1)?.kind).toBe('run_finished');
    for (const line of linesOf(logPath)) {
      expect(line).toMatch(/^(\d{4}-\d\d-\d\dT\S+ (INFO|WARN) llm_call_complete |\{"type":"flowmeter\.run_event\.v1")/);
      if (line.startsWith('{')) expect(() => JSON.parse(line) as unknown).not.toThrow();
    }
    expect(readdirSync(dir).sort()).toEqual(['events.jsonl', 'metrics.jsonl', 'run.json']);
  });
});
