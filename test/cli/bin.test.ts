import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const bin = join(root, 'bin', 'flowmeter.js');

function flowmeter(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

// The installed binary runs the compiled CLI in dist/, which `npm install` / `npm ci`
// build through the `prepare` script.
describe('the flowmeter binary', () => {
  it('is built by the install step', () => {
    expect(existsSync(join(root, 'dist', 'cli', 'main.js')), 'dist/ is missing: run npm run build').toBe(true);
  });

  it('prints its version', () => {
    const r = flowmeter('--version');
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('answers a missing runs folder with one line and exit code 1, no stack trace', () => {
    const r = flowmeter('report', '--runs-dir', '/nonexistent/flowmeter-runs');
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('answers an unknown command with exit code 2', () => {
    expect(flowmeter('frobnicate').status).toBe(2);
  });
});
