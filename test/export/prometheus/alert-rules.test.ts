import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { skipReason } from './tools.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const rules = join(root, 'dashboards/alerts.yml');
const unitTests = join(root, 'test/export/prometheus/fixtures/alerts.test.yml');
const reason = skipReason('promtool');

const promtool = (...args: string[]): { status: number | null; out: string } => {
  const r = spawnSync('promtool', args, { cwd: root, encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout}\n${r.stderr}` };
};

describe.skipIf(reason !== null)('dashboards/alerts.yml', () => {
  it('passes promtool check rules', () => {
    const r = promtool('check', 'rules', rules);
    expect(r.out).toContain('SUCCESS: 6 rules found');
    expect(r.status).toBe(0);
  });

  it('fires what it should, for the groups it should, under promtool test rules', () => {
    const r = promtool('test', 'rules', unitTests);
    expect(r.out).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });

  it('fails the unit tests when a threshold changes, so they can fail', () => {
    const dir = mkdtempSync(join(tmpdir(), 'flowmeter-alert-rules-'));
    try {
      mkdirSync(join(dir, 'dashboards'), { recursive: true });
      mkdirSync(join(dir, 'test/export/prometheus/fixtures'), { recursive: true });
      // The same tests against rules whose error-rate threshold no longer catches support (33%).
      writeFileSync(join(dir, 'dashboards/alerts.yml'), readFileSync(rules, 'utf8').replace('> 0.1\n', '> 0.5\n'));
      copyFileSync(unitTests, join(dir, 'test/export/prometheus/fixtures/alerts.test.yml'));
      const r = spawnSync('promtool', ['test', 'rules', join(dir, 'test/export/prometheus/fixtures/alerts.test.yml')], { encoding: 'utf8' });
      expect(r.status).not.toBe(0);
      expect(`${r.stdout}${r.stderr}`).toContain('FlowmeterRunErrorRateHigh');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
