import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { JsonlSink } from '../../src/sinks/index.js';
import { runStarted, toolCall } from './fixtures.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const child = fileURLToPath(new URL('./fixtures/crash-child.ts', import.meta.url));

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempRunsDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'flowmeter-crash-'));
  dirs.push(dir);
  return dir;
}

function readLines(runsDir: string): string[] {
  const text = readFileSync(join(runsDir, 'crash', 'metrics.jsonl'), 'utf8');
  // A torn last line would have no newline.
  expect(text.endsWith('\n')).toBe(true);
  return text.slice(0, -1).split('\n');
}

describe('JsonlSink after a crash', () => {
  it('leaves every line written before SIGKILL complete and parseable', () => {
    const runsDir = tempRunsDir();
    const result = spawnSync(process.execPath, ['--import', 'tsx', child, runsDir, 'self'], { cwd: root, encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.signal).toBe('SIGKILL');
    const lines = readLines(runsDir);
    expect(lines).toHaveLength(Number(result.stdout.trim()));
    for (const line of lines) expect(() => JSON.parse(line) as unknown).not.toThrow();
    // The run never finished, so there is no run.json to mistake for a complete run.
    expect(existsSync(join(runsDir, 'crash', 'run.json'))).toBe(false);
  });

  it('keeps every finished write whole when killed from outside, and a reopen cuts off a torn tail', async () => {
    const runsDir = tempRunsDir();
    const proc = spawn(process.execPath, ['--import', 'tsx', child, runsDir, 'loop'], { cwd: root });
    await new Promise<void>((resolve, reject) => {
      proc.once('error', reject);
      proc.stdout.once('data', () => setTimeout(resolve, 150));
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => proc.once('exit', (_code, signal) => resolve(signal)));
    proc.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');

    // A kill during a multi-page write may leave a fragment after the last newline
    // (Linux returns a short write on a fatal signal); every line before it is whole.
    const text = readFileSync(join(runsDir, 'crash', 'metrics.jsonl'), 'utf8');
    const whole = text.slice(0, text.lastIndexOf('\n') + 1).split('\n').slice(0, -1);
    expect(whole.length).toBeGreaterThan(0);
    for (const line of whole) expect(() => JSON.parse(line) as unknown).not.toThrow();

    // Resuming the run appends on a line boundary, so `jq -s` reads the whole file again.
    const sink = new JsonlSink({ runsDir });
    sink.write([runStarted('crash'), toolCall({ run_id: 'crash', tool: 'after_restart' })]);
    sink.close();
    const lines = readLines(runsDir);
    expect(lines).toHaveLength(whole.length + 1);
    for (const line of lines) expect(() => JSON.parse(line) as unknown).not.toThrow();
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ tool: 'after_restart' });
  });
});
