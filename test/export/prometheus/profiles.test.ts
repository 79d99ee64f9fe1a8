import { describe, expect, it } from 'vitest';
import { PrometheusView } from '../../../src/export/prometheus/index.js';
import type { ProfileName } from '../../../src/export/prometheus/index.js';
import { DROPPED_VALUES_METRIC, LABEL_OVERFLOW_METRIC } from '../../../src/recorder/index.js';
import { twoRuns } from './fixtures.js';
import { parseExposition } from './parse.js';

interface FamilyShape {
  readonly name: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  readonly labels: readonly string[];
  readonly buckets?: readonly number[];
}

function shapes(profile: ProfileName): FamilyShape[] {
  const view = new PrometheusView({ profiles: [profile] });
  return view.registry
    .families()
    .filter((f) => f.name !== LABEL_OVERFLOW_METRIC && f.name !== DROPPED_VALUES_METRIC)
    .map((f) => (f.type === 'histogram' ? { name: f.name, type: f.type, labels: f.labelNames, buckets: f.buckets } : { name: f.name, type: f.type, labels: f.labelNames }));
}

// Typed in from the ARX runbook (seed 001, "Available Metrics") and the bucket list.
const ARX_FLOW = ['flow_id', 'persona', 'exec_mode', 'branch'];
const ARX: FamilyShape[] = [
  { name: 'ar_flow_started_total', type: 'counter', labels: ARX_FLOW },
  { name: 'ar_flow_success_total', type: 'counter', labels: ARX_FLOW },
  { name: 'ar_flow_fail_total', type: 'counter', labels: [...ARX_FLOW, 'reason'] },
  {
    name: 'ar_step_latency_ms',
    type: 'histogram',
    labels: ['flow_id', 'step_id', 'persona', 'model', 'exec_mode'],
    buckets: [50, 100, 200, 400, 800, 1500, 3000, 5000, 8000, 12000, 20000, 40000],
  },
  { name: 'ar_step_retries_total', type: 'counter', labels: ['flow_id', 'step_id', 'persona'] },
  { name: 'ar_inflight_steps', type: 'gauge', labels: ['flow_id'] },
  { name: 'ar_tokens_total', type: 'counter', labels: ['direction', 'model', 'persona'] },
];

// Typed in from enzu's run-metrics guide (seed 004) and the bucket lists.
const ENZU_TOKENS = [50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000];
const ENZU: FamilyShape[] = [
  { name: 'enzu_runs_total', type: 'counter', labels: ['outcome', 'partial'] },
  { name: 'enzu_runs_cost_unknown_total', type: 'counter', labels: [] },
  { name: 'enzu_retries_total', type: 'counter', labels: ['reason'] },
  { name: 'enzu_budget_exceeded_during_retry_total', type: 'counter', labels: [] },
  { name: 'enzu_run_elapsed_seconds', type: 'histogram', labels: [], buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 600] },
  { name: 'enzu_run_cost_usd', type: 'histogram', labels: [], buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10] },
  { name: 'enzu_run_total_tokens', type: 'histogram', labels: [], buckets: ENZU_TOKENS },
  { name: 'enzu_run_input_tokens', type: 'histogram', labels: [], buckets: ENZU_TOKENS },
  { name: 'enzu_run_output_tokens', type: 'histogram', labels: [], buckets: ENZU_TOKENS },
  { name: 'enzu_run_retries', type: 'histogram', labels: [], buckets: [0, 1, 2, 3, 5, 10, 25, 50, 100] },
];

const DEFAULT_NAMES: [string, FamilyShape['type'], string[]][] = [
  ['flowmeter_runs_started_total', 'counter', ['flow_id', 'agent']],
  ['flowmeter_runs_finished_total', 'counter', ['flow_id', 'agent', 'outcome', 'partial']],
  ['flowmeter_run_duration_seconds', 'histogram', ['flow_id', 'agent']],
  ['flowmeter_run_cost_usd', 'histogram', ['flow_id', 'agent']],
  ['flowmeter_run_tokens', 'histogram', ['flow_id', 'agent']],
  ['flowmeter_runs_cost_unknown_total', 'counter', ['flow_id', 'agent']],
  ['flowmeter_budget_exceeded_during_retry_total', 'counter', ['flow_id', 'agent']],
  ['flowmeter_step_duration_seconds', 'histogram', ['flow_id', 'step_id', 'model', 'exec_mode']],
  ['flowmeter_step_retries_total', 'counter', ['flow_id', 'step_id', 'reason']],
  ['flowmeter_inflight_steps', 'gauge', ['flow_id']],
  ['flowmeter_tokens_total', 'counter', ['direction', 'model', 'agent']],
  ['flowmeter_cost_usd_total', 'counter', ['model', 'agent']],
  ['flowmeter_llm_request_duration_seconds', 'histogram', ['provider', 'model']],
  ['flowmeter_llm_time_to_first_token_seconds', 'histogram', ['provider', 'model']],
  ['flowmeter_tool_call_duration_seconds', 'histogram', ['tool', 'success']],
  ['flowmeter_dropped_events_total', 'counter', []],
  ['flowmeter_sink_errors_total', 'counter', ['sink']],
  ['flowmeter_store_rows_total', 'counter', ['result']],
  ['flowmeter_store_pending_rows', 'gauge', []],
];

describe('the arx profile', () => {
  it("defines exactly ARX's families, types, label names and step latency buckets", () => {
    expect(shapes('arx')).toEqual(ARX);
  });

  it("writes ar_step_latency_ms buckets as ARX's le values, in milliseconds", () => {
    const view = new PrometheusView({ profiles: ['arx'] });
    for (const event of twoRuns()) view.record(event);
    const text = view.render('text');
    const le = parseExposition(text)
      .samples.filter((s) => s.name === 'ar_step_latency_ms_bucket' && s.labels['step_id'] === 'plan')
      .map((s) => s.labels['le']);
    expect(le).toEqual(['50', '100', '200', '400', '800', '1500', '3000', '5000', '8000', '12000', '20000', '40000', '+Inf']);
    // The seed's expected output line: an 850 ms step is not in le="800" but is in le="1500".
    expect(text).toContain('ar_step_latency_ms_bucket{flow_id="backup",step_id="plan",persona="commis",model="gpt-5-mini",exec_mode="live",le="800"} 0\n');
    expect(text).toContain('ar_step_latency_ms_bucket{flow_id="backup",step_id="plan",persona="commis",model="gpt-5-mini",exec_mode="live",le="1500"} 1\n');
  });
});

describe('the enzu profile', () => {
  it("defines exactly enzu's families, label names and bucket lists", () => {
    expect(shapes('enzu')).toEqual(ENZU);
  });

  it("writes enzu_runs_total as enzu's output does: outcome and partial as 0 or 1", () => {
    const view = new PrometheusView({ profiles: ['enzu'] });
    for (const event of twoRuns()) view.record(event);
    const text = view.render('text');
    expect(text).toContain('# HELP enzu_runs_total Total number of runs by outcome\n# TYPE enzu_runs_total counter\n');
    expect(text).toContain('enzu_runs_total{outcome="success",partial="0"} 1\n');
    expect(text).toContain('enzu_runs_total{outcome="timeout",partial="1"} 1\n');
    expect(text).toContain('# HELP enzu_run_cost_usd Distribution of USD per run\n# TYPE enzu_run_cost_usd histogram\n');
  });
});

describe('the default profile', () => {
  it('defines the families of the naming guide with their label names', () => {
    expect(shapes('default').map((f) => [f.name, f.type, f.labels])).toEqual(DEFAULT_NAMES);
  });

  it('names counters with _total and nothing else with it, and durations in seconds', () => {
    for (const f of shapes('default')) {
      expect(f.name.endsWith('_total'), f.name).toBe(f.type === 'counter');
      if (f.name.includes('duration') || f.name.includes('time_to')) expect(f.name.endsWith('_seconds'), f.name).toBe(true);
    }
  });

  it('spans LLM latencies from 50 ms to minutes', () => {
    const llm = shapes('default').find((f) => f.name === 'flowmeter_llm_request_duration_seconds');
    expect(llm?.buckets?.[0]).toBe(0.05);
    expect(llm?.buckets?.at(-1)).toBeGreaterThanOrEqual(120);
  });
});

describe.each<ProfileName>(['default', 'arx', 'enzu'])('the %s profile', (profile) => {
  it('never labels by run, task, user or session id', () => {
    const forbidden = ['run_id', 'task_id', 'user_id', 'session_id'];
    for (const f of shapes(profile)) expect(f.labels.filter((l) => forbidden.includes(l)), f.name).toEqual([]);
  });
});

describe('combined profiles', () => {
  it('hold every selected family on one registry without a name clash', () => {
    const view = new PrometheusView({ profiles: ['default', 'arx', 'enzu'] });
    const names = view.registry.families().map((f) => f.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names.length).toBe(2 + DEFAULT_NAMES.length + ARX.length + ENZU.length);
  });

  it('feed every profile from the same events', () => {
    const view = new PrometheusView({ profiles: ['default', 'arx', 'enzu'] });
    for (const event of twoRuns()) view.record(event);
    const text = view.render('text');
    expect(text).toContain('flowmeter_runs_finished_total{flow_id="backup",agent="commis",outcome="success",partial="false"} 1\n');
    expect(text).toContain('ar_flow_success_total{flow_id="backup",persona="commis",exec_mode="live",branch="main"} 1\n');
    expect(text).toContain('enzu_runs_total{outcome="success",partial="0"} 1\n');
  });
});
