import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSupportAgent } from '../../examples/support-agent.js';
import { serve } from '../../src/cli/serve.js';
import { createMeter } from '../../src/index.js';
import type { Meter } from '../../src/index.js';
import type { MetricsServer } from '../../src/server/index.js';
import { installed, skipReason } from '../export/prometheus/tools.js';
import { capture } from '../server/helpers.js';
import { dashboardText, interpolate, labelValuesOf, panelQueries, regexValue, schemaProblems, variablesOf } from './grafana-dashboard.js';
import type { PanelQuery } from './grafana-dashboard.js';
import { startPrometheus } from './prometheus-server.js';
import type { QueryAnswer, RunningPrometheus } from './prometheus-server.js';

/**
 * The Grafana dashboards against real data. A meter runs the support agent (retries,
 * failed tools, blown budgets, failed verifications) into a runs folder; `flowmeter serve
 * --profile default,arx` tails it; a real Prometheus (Debian `prometheus`, installed in CI
 * by scripts/ci-deps.sh) scrapes it every second while new runs keep coming, so counters
 * rise between samples and rate() has two or more per series. Then every panel query of
 * both dashboards goes through Prometheus's HTTP API, once with every variable at All
 * (`.*`) and once with one flow and one agent picked, which catches a filter on a label
 * that a family does not carry (`agent=~".*"` also matches a missing label).
 *
 * "Returns data" means a non-empty result vector with at least one finite value. A 0 is
 * data: in-flight steps are 0 once the last step has ended, dropped events are 0 when
 * nothing was dropped. NaN is not: histogram_quantile over a window without observations
 * gives NaN, which Grafana shows as no value.
 *
 * Dropped events are the meter's own count (its audit queue lives in the agent process);
 * `flowmeter serve` cannot see events that never reached events.jsonl. So Prometheus
 * also scrapes the agent's `meter.serve()`, keeping only the meter's self-diagnostics
 * families, so no run is counted twice.
 */
const FILES = ['flowmeter-overview.json', 'arx-flows-overview.json'] as const;
const REQUIRED_VARIABLES: Readonly<Record<(typeof FILES)[number], readonly string[]>> = {
  'flowmeter-overview.json': ['datasource', 'flow', 'agent'],
  'arx-flows-overview.json': ['datasource', 'flow_id'],
};
/** Runs keep starting for this long after Prometheus's first scrape: five or more scrapes with rising counters. */
const LIVE_MS = 6_000;
const FLOW = 'support_triage';
const AGENT = 'SUPPORT_AI';
/** The one value a variable over each label gets when "one picked": the only flow and agent that ran. */
const PICKED: Readonly<Record<string, string>> = { flow_id: FLOW, agent: AGENT };

const reason = skipReason('prometheus');

/** A ticket answered by a self-hosted model that no price table knows: the run's cost is unknown, not $0. */
async function onPremTicket(meter: Meter, n: number): Promise<void> {
  await meter.runSettled({ flowId: FLOW, taskId: `ONPREM-${n}`, agent: AGENT, execMode: 'dry_run' }, (run) =>
    run.step('classify', { model: 'acme-onprem-7b' }, () =>
      run.llmCall({ provider: 'vllm', model: 'acme-onprem-7b' }, () => ({ usage: { prompt_tokens: 420, completion_tokens: 12 } })),
    ),
  );
}

/** Support tickets, 20 at a time, until `until`; returns how many runs it made. */
async function keepRunsComing(meter: Meter, until: number): Promise<number> {
  let runs = 0;
  for (let batch = 1; Date.now() < until; batch++) {
    runs += (await runSupportAgent({ meter, tickets: 20, concurrency: 10, timeScale: 0.05, seed: 100 + batch })).length;
    await onPremTicket(meter, batch);
    runs++;
  }
  return runs;
}

function finiteValues(answer: QueryAnswer): number[] {
  return (answer.data?.result ?? []).map((sample) => Number(sample.value[1])).filter(Number.isFinite);
}

describe.skipIf(reason !== null)('the Grafana dashboards on a real Prometheus scraping flowmeter serve', () => {
  let dir: string | undefined;
  let meter: Meter | undefined;
  let prometheus: RunningPrometheus | undefined;
  let serveExit: Promise<number> | undefined;
  const stopServe = new AbortController();
  const serveIo = capture();
  let totalRuns = 0;

  async function value(expr: string): Promise<number> {
    const answer = await prometheus!.query(expr);
    expect(answer.status, `${expr}: ${answer.error ?? ''}`).toBe('success');
    return finiteValues(answer)[0] ?? Number.NaN;
  }

  beforeAll(async () => {
    if (!installed('prometheus')) throw new Error('prometheus is not installed; CI must install it (scripts/ci-deps.sh)');
    dir = mkdtempSync(join(tmpdir(), 'flowmeter-dashboards-'));
    const runsDir = join(dir, 'runs');
    meter = createMeter({ runsDir, log: false, env: {}, onWarning: () => undefined });

    // History: what the folder holds before serve starts (serve reads it on its first pass).
    totalRuns += (await runSupportAgent({ meter, tickets: 60, concurrency: 10, timeScale: 0.01, seed: 7 })).length;
    for (let n = 0; n < 3; n++) await onPremTicket(meter, n);
    totalRuns += 3;
    await meter.flush();

    const agent = await meter.serve({ port: 0 });
    const flowmeter = await new Promise<MetricsServer>((resolve, reject) => {
      serveExit = serve({ port: 0, runsDir, profile: 'default,arx', pollMs: 100 }, serveIo, { signal: stopServe.signal, onListening: resolve, env: {} });
      void serveExit.then((code) => reject(new Error(`flowmeter serve exited ${code}: ${serveIo.stderr.join(' | ')}`)), reject);
    });

    prometheus = await startPrometheus(dir, [
      { name: 'flowmeter_serve', target: `127.0.0.1:${flowmeter.port}` },
      { name: 'support_agent', target: `127.0.0.1:${agent.port}`, keep: 'flowmeter_(dropped_events|sink_errors)_total' },
    ]);
    await prometheus.scraped();

    totalRuns += await keepRunsComing(meter, Date.now() + LIVE_MS);
    await meter.flush();
    // Done when Prometheus has stored a scrape that saw every run finish.
    const deadline = Date.now() + 15_000;
    while ((await value('sum(flowmeter_runs_finished_total{job="flowmeter_serve"})')) !== totalRuns) {
      if (Date.now() > deadline) throw new Error(`Prometheus did not see all ${totalRuns} runs within 15 s`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }, 60_000);

  afterAll(async () => {
    await prometheus?.stop();
    stopServe.abort();
    await serveExit?.catch(() => undefined);
    await meter?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('has Prometheus installed (CI installs it with scripts/ci-deps.sh)', () => {
    expect(installed('prometheus'), 'prometheus is required in CI').toBe(true);
  });

  it('scraped retries, failures, unknown costs and steps in flight while runs kept coming', async () => {
    expect(totalRuns).toBeGreaterThan(100);
    expect(await value('sum(flowmeter_step_retries_total)')).toBeGreaterThan(0);
    expect(await value('sum(flowmeter_runs_finished_total{outcome!="success"})')).toBeGreaterThan(0);
    expect(await value('sum(flowmeter_runs_cost_unknown_total)')).toBeGreaterThan(0);
    expect(await value('max(max_over_time(flowmeter_inflight_steps[5m]))')).toBeGreaterThan(0);
    expect(await value('sum(ar_flow_fail_total)')).toBeGreaterThan(0);
    // Counters rose between scrapes, so rate() and increase() measure something.
    expect(await value('sum(increase(flowmeter_runs_started_total[5m]))')).toBeGreaterThan(0);
    expect(await value('min(count_over_time(up{job="flowmeter_serve"}[5m]))')).toBeGreaterThanOrEqual(5);
  });

  it('served without a warning', () => {
    expect(serveIo.stderr).toEqual([]);
  });

  describe.each(FILES)('dashboards/%s', (file) => {
    const text = dashboardText(file);
    const json: unknown = JSON.parse(text);
    const queries = panelQueries(json);
    const queryVariables = variablesOf(json).filter((v) => v.type === 'query');
    const valueOf = (definition: string | undefined): string => {
      const { label } = labelValuesOf(definition ?? '');
      return PICKED[label] ?? `(no value to pick for label ${label})`;
    };

    it('is an importable Grafana dashboard whose panels and targets use the datasource variable', () => {
      expect(schemaProblems(json)).toEqual([]);
    });

    it('gives every panel its own id, and every target of a panel its own refId', () => {
      // Read as raw JSON: the schema test above reports any other problem.
      const panels = (json as { panels?: readonly { id?: unknown; title?: unknown; targets?: readonly { refId?: unknown }[] }[] }).panels ?? [];
      const ids = panels.map((p) => p.id);
      expect(ids.filter((id, i) => ids.indexOf(id) !== i), 'duplicate panel ids').toEqual([]);
      for (const panel of panels) {
        const refIds = (panel.targets ?? []).map((t) => t.refId);
        expect(refIds.filter((refId, i) => refIds.indexOf(refId) !== i), `duplicate refIds in ${String(panel.title)}`).toEqual([]);
      }
    });

    it(`has the variables ${REQUIRED_VARIABLES[file].join(', ')}`, () => {
      expect(variablesOf(json).map((v) => v.name)).toEqual(REQUIRED_VARIABLES[file]);
    });

    it('declares in __inputs every ${DS_*} placeholder it uses, for the Import dialog', () => {
      const inputs = ((json as { __inputs?: readonly { name?: unknown }[] }).__inputs ?? []).map((i) => i.name);
      const used = [...text.matchAll(/\$\{(DS_\w+)\}/g)].map((m) => m[1]);
      expect(used.length).toBeGreaterThan(0);
      for (const name of used) expect(inputs).toContain(name);
    });

    it('fills every query variable from Prometheus, with the flow and agent that ran', async () => {
      const earlier: Record<string, string> = {};
      for (const variable of queryVariables) {
        const { selector, label } = labelValuesOf(variable.definition ?? '');
        const values = await prometheus!.labelValues(label, interpolate(selector, earlier));
        expect(values, variable.definition).toEqual([valueOf(variable.definition)]);
        earlier[variable.name] = '.*';
      }
    });

    const everything = Object.fromEntries(queryVariables.map((v) => [v.name, '.*']));
    const picked = Object.fromEntries(queryVariables.map((v) => [v.name, regexValue(valueOf(v.definition))]));
    const rows = queries.map(({ panel, refId, expr }: PanelQuery) => [panel, refId, expr] as const);
    it.each(rows)('panel "%s" (%s) returns data with every flow and agent, and with one picked', async (panel, refId, expr) => {
      for (const [selection, values] of [['All', everything], ['one picked', picked]] as const) {
        const promql = interpolate(expr, values);
        const answer = await prometheus!.query(promql);
        const where = `${file} panel "${panel}" (${refId}), variables ${selection}: ${promql}`;
        expect(answer.status, `${where} failed: ${answer.error ?? ''}`).toBe('success');
        expect(answer.data?.resultType, where).toBe('vector');
        expect(answer.data?.result.length, `${where} returned no series`).toBeGreaterThan(0);
        expect(finiteValues(answer).length, `${where} returned only NaN`).toBeGreaterThan(0);
      }
    });
  });
});

if (reason !== null) {
  describe('the Grafana dashboards on a real Prometheus scraping flowmeter serve', () => {
    it.skip(`is skipped: ${reason}`, () => undefined);
  });
}
