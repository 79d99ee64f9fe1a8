import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { PrometheusView, renderRegistry } from '../../../src/export/prometheus/index.js';
import type { ExpositionFormat, ProfileName } from '../../../src/export/prometheus/index.js';
import { NASTY_VALUES, rawSource } from './fake-source.js';
import { twoRuns } from './fixtures.js';
import { installed, skipReason } from './tools.js';

/**
 * `promtool check metrics` (Prometheus 2.42 here) parses with the text-format 0.0.4 parser
 * and then lints. Exit 0 is clean, 3 is lint problems only, 1 is an error. Accepted lint
 * warnings, each for a reason:
 *
 * - `ar_step_latency_ms metric names should not contain abbreviated units`: that is ARX's
 *   exact name, which its dashboards query; the arx profile exists to keep it.
 * - OpenMetrics only: `<counter>_total no help text`. The 0.0.4 parser does not know that
 *   OpenMetrics names a counter family without `_total` (`# TYPE x counter`, `# HELP x …`)
 *   and its samples with it (`x_total 1`), so it sees an undocumented `x_total`. The OpenMetrics
 *   text itself is checked by a real Prometheus scrape (openmetrics-scrape.test.ts).
 *
 * Anything else promtool prints fails the test.
 */
const ARX_NAME = /^ar_step_latency_ms metric names should not contain abbreviated units$/;
const OM_COUNTER_HELP = /^[a-zA-Z_:][a-zA-Z0-9_:]*_total no help text$/;

function promtool(text: string): { status: number | null; lines: string[] } {
  const run = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if (run.error) throw run.error;
  const lines = `${run.stdout}\n${run.stderr}`.split('\n').filter((line) => line.trim() !== '');
  return { status: run.status, lines };
}

function exposition(profiles: readonly ProfileName[], format: ExpositionFormat): string {
  const view = new PrometheusView({ profiles, diagnostics: () => ({ dropped_events: 2, sink_errors: { jsonl: 1 } }) });
  for (const event of twoRuns()) view.record(event);
  return view.render(format);
}

const reason = skipReason('promtool');
const PROFILES: (readonly ProfileName[])[] = [['default'], ['arx'], ['enzu'], ['default', 'arx', 'enzu']];

describe.skipIf(reason !== null)('promtool check metrics', () => {
  it('is installed (CI installs it with scripts/ci-deps.sh)', () => {
    expect(installed('promtool'), 'promtool is required in CI').toBe(true);
  });

  describe.each<ExpositionFormat>(['text', 'openmetrics'])('on the %s format', (format) => {
    const accepted = format === 'text' ? [ARX_NAME] : [ARX_NAME, OM_COUNTER_HELP];

    it.each(PROFILES.map((p) => [p.join(',')]))('passes for --profile %s with only the accepted warnings', (spec) => {
      const { status, lines } = promtool(exposition(spec.split(',') as ProfileName[], format));
      expect(status === 0 || status === 3, lines.join('\n')).toBe(true);
      expect(lines.filter((line) => !accepted.some((ok) => ok.test(line)))).toEqual([]);
      if (format === 'text' && !spec.includes('arx')) expect(status).toBe(0);
    });

    it('parses label values with quotes, backslashes and line feeds as escaped', () => {
      const { status, lines } = promtool(renderRegistry(rawSource(NASTY_VALUES), format));
      expect(lines.filter((line) => !accepted.some((ok) => ok.test(line)))).toEqual([]);
      expect(status === 0 || status === 3).toBe(true);
    });

    it('rejects the same values left unescaped, so the check above can fail', () => {
      const text = renderRegistry(rawSource(NASTY_VALUES), format).replace('say \\"hi\\"', 'say "hi"');
      const { status, lines } = promtool(text);
      expect(status).toBe(1);
      expect(lines.join('\n')).toMatch(/pars/i);
    });
  });

  it('parses HELP text with a backslash and a line feed in the text format', () => {
    const { status, lines } = promtool(renderRegistry(rawSource(['x'], 'Back\\slash and\na second line.'), 'text'));
    expect(lines).toEqual([]);
    expect(status).toBe(0);
  });
});

if (reason !== null) {
  describe('promtool check metrics', () => {
    it.skip(`is skipped: ${reason}`, () => undefined);
  });
}
