import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const bin = join(root, 'bin', 'flowmeter.js');
const dir = mkdtempSync(join(tmpdir(), 'flowmeter-interrupt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// The installed binary (dist/, built by `prepare`) as a user runs it, interrupted with Ctrl-C.
describe('flowmeter run interrupted with SIGINT', () => {
  it('cancels the run, still writes its records, and exits 130', async () => {
    const runsDir = join(dir, 'runs');
    const out = join(dir, 'm.json');
    const child = spawn(process.execPath, [bin, 'run', join(root, 'examples', 'workflows', 'chain.ais'), '-O0', '--dry-run', '--input', 'idea=x', '--quiet', '--runs-dir', runsDir, '--emit-metrics', out, '--cache-dir', join(dir, 'cache')], { cwd: dir });
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    // Interrupt once the run is under way: its folder exists as soon as it starts.
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        try {
          if (readdirSync(runsDir).length > 0) {
            clearInterval(poll);
            resolve();
          }
        } catch {
          // not created yet
        }
      }, 20);
    });
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(130);
    expect(stderr).toContain('flowmeter: interrupted');
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(stdout).toMatch(/outcome: cancelled/);
    const folder = join(runsDir, readdirSync(runsDir)[0]!);
    expect((JSON.parse(readFileSync(join(folder, 'run.json'), 'utf8')) as { outcome: string }).outcome).toBe('cancelled');
    expect((JSON.parse(readFileSync(out, 'utf8')) as { execution: { status: string } }).execution.status).toBe('failed');
  }, 20_000);
});
