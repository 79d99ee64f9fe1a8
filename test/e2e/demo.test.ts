import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('npm start: the living demo', () => {
  it('runs a simulated fleet into the collector, serves the dashboard, the API and /metrics, and stops cleanly on Ctrl-C', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flowmeter-demo-'));
    const child = spawn(process.execPath, ['--import', 'tsx', 'examples/demo.ts'], { cwd: root, env: { ...process.env, FLOWMETER_DEMO_PORT: '0', FLOWMETER_DEMO_DIR: dir } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (out += d.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const end = Date.now() + 30_000;
      let url = '';
      while (url === '' && Date.now() < end) {
        url = /dashboard (http:\/\/127\.0\.0\.1:\d+)\//.exec(out)?.[1] ?? '';
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(url).not.toBe('');
      let flows = new Set<string>();
      while (Date.now() < end) {
        const page = (await (await fetch(`${url}/api/runs?limit=200`)).json()) as { runs: { flow_id: string; status: string }[] };
        flows = new Set(page.runs.filter((r) => r.status === 'finished').map((r) => r.flow_id));
        if (flows.has('support_triage') && flows.size >= 2) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      // The support agent and at least one workflow have reported runs.
      expect(flows.has('support_triage')).toBe(true);
      expect(flows.size).toBeGreaterThanOrEqual(2);
      expect(await (await fetch(`${url}/metrics`)).text()).toMatch(/^flowmeter_runs_finished_total\{flow_id="support_triage"/m);
      expect(await (await fetch(`${url}/`)).text()).toContain('<title>flowmeter</title>');
    } finally {
      child.kill('SIGINT');
      expect(await exited).toBe(0);
      rmSync(dir, { recursive: true, force: true });
    }
    expect(out).toContain('flowmeter demo: stopped');
  }, 60_000);
});
