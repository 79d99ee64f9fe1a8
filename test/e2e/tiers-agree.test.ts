import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSupportAgent } from '../../examples/support-agent.js';
import type { TicketOutcome } from '../../examples/support-agent.js';
import { createMeter } from '../../src/index.js';
import type { Meter, RunEvent, RunSnapshot } from '../../src/index.js';

/** Parses `key=value` pairs of a logfmt line (values may be double-quoted). */
function logfmtFields(line: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const m of line.matchAll(/(\w+)=("((?:[^"\\]|\\.)*)"|\S*)/g)) fields[m[1]!] = m[3] !== undefined ? JSON.parse(`"${m[3]}"`) as string : m[2]!;
  return fields;
}

interface Totals {
  llm_calls: number;
  tool_calls: number;
  failed_tools: number;
  input: number;
  output: number;
  total: number;
  cost: number;
}

const zero = (): Totals => ({ llm_calls: 0, tool_calls: 0, failed_tools: 0, input: 0, output: 0, total: 0, cost: 0 });

describe('200 concurrent simulated runs', () => {
  let dir: string;
  let meter: Meter;
  let outcomes: TicketOutcome[];
  let events: RunEvent[];
  let snapshot: RunSnapshot;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'flowmeter-e2e-'));
    meter = createMeter({ runsDir: join(dir, 'runs'), log: { format: 'logfmt', destination: { path: join(dir, 'flowmeter.log') } } });
    outcomes = await runSupportAgent({ meter, tickets: 200, concurrency: 200, timeScale: 0.002, seed: 11 });
    await meter.close();
    events = outcomes.map((o) => o.result.event!);
    snapshot = meter.snapshot();
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('gives every run a RunEvent with a distinct run_id and a summary line', () => {
    expect(events).toHaveLength(200);
    expect(new Set(events.map((e) => e.run_id)).size).toBe(200);
    for (const o of outcomes) expect(o.result.summary).toMatch(/^Execution time: \d/);
  });

  it('produces a mix of outcomes, retries and failed tools, so the checks below cover them', () => {
    const outcomesSeen = new Set(events.map((e) => e.outcome));
    expect(outcomesSeen.has('success')).toBe(true);
    expect(outcomesSeen.size).toBeGreaterThanOrEqual(3);
    expect(events.some((e) => e.retries > 0)).toBe(true);
  });

  it('has metrics.jsonl totals that equal each RunEvent exactly', () => {
    const runsDir = join(dir, 'runs');
    expect(readdirSync(runsDir)).toHaveLength(200);
    for (const event of events) {
      const lines = readFileSync(join(runsDir, event.run_id, 'metrics.jsonl'), 'utf8').split('\n').filter(Boolean);
      const t = zero();
      for (const line of lines) {
        const row = JSON.parse(line) as Record<string, unknown>;
        expect(row.run_id).toBe(event.run_id);
        if (row.event === 'llm_call') {
          t.llm_calls++;
          t.input += (row.prompt_tokens as number | undefined) ?? 0;
          t.output += (row.completion_tokens as number | undefined) ?? 0;
          t.total += (row.total_tokens as number | undefined) ?? 0;
          t.cost += (row.cost_usd as number | undefined) ?? 0;
        } else {
          t.tool_calls++;
        }
      }
      expect(t.llm_calls).toBe(event.llm_calls);
      expect(t.tool_calls).toBe(event.tool_calls);
      expect(t.input).toBe(event.input_tokens);
      expect(t.output).toBe(event.output_tokens);
      expect(t.total).toBe(event.total_tokens);
      // Per-call costs are kept to 1e-10 USD and so is the run total.
      expect(t.cost).toBeCloseTo(event.cost_usd!, 9);
      const stored = JSON.parse(readFileSync(join(runsDir, event.run_id, 'run.json'), 'utf8')) as RunEvent & { summary: string };
      const { summary, ...rest } = stored;
      expect(rest).toEqual(event);
      expect(summary).toBe(outcomes.find((o) => o.result.event === event)!.result.summary);
    }
  });

  it('has log lines whose totals equal each RunEvent exactly, and one run_event line per run', () => {
    const lines = readFileSync(join(dir, 'flowmeter.log'), 'utf8').split('\n').filter(Boolean);
    const byRun = new Map<string, Totals>();
    const runEvents = new Map<string, RunEvent>();
    for (const line of lines) {
      if (line.startsWith('{')) {
        const record = JSON.parse(line) as RunEvent & { type: string };
        expect(record.type).toBe('flowmeter.run_event.v1');
        expect(runEvents.has(record.run_id)).toBe(false);
        const { type: _type, ...event } = record;
        runEvents.set(record.run_id, event);
        continue;
      }
      const f = logfmtFields(line);
      const t = byRun.get(f.run_id!) ?? zero();
      byRun.set(f.run_id!, t);
      if (line.includes(' llm_call_complete ')) {
        t.llm_calls++;
        t.input += Number(f.prompt_tokens ?? 0);
        t.output += Number(f.completion_tokens ?? 0);
        t.total += Number(f.total_tokens ?? 0);
        t.cost += Number(f.cost_usd ?? 0);
      } else if (line.includes(' tool_call_complete ')) {
        t.tool_calls++;
        if (f.success === 'false') t.failed_tools++;
      }
    }
    expect(runEvents.size).toBe(200);
    for (const event of events) {
      expect(runEvents.get(event.run_id)).toEqual(event);
      const t = byRun.get(event.run_id)!;
      expect(t.llm_calls).toBe(event.llm_calls);
      expect(t.tool_calls).toBe(event.tool_calls);
      expect(t.input).toBe(event.input_tokens);
      expect(t.output).toBe(event.output_tokens);
      expect(t.total).toBe(event.total_tokens);
      expect(t.cost).toBeCloseTo(event.cost_usd!, 9);
    }
  });

  it('has a snapshot whose counts equal the RunEvents exactly and whose percentiles are within 1%', () => {
    expect(snapshot.total_runs).toBe(200);
    const outcomeCounts: Record<string, number> = {};
    const reasons: Record<string, number> = {};
    for (const e of events) {
      const key = `${e.outcome}|partial=${e.partial ? 1 : 0}`;
      outcomeCounts[key] = (outcomeCounts[key] ?? 0) + 1;
      for (const [reason, n] of Object.entries(e.retries_by_reason)) reasons[reason] = (reasons[reason] ?? 0) + n;
    }
    expect(snapshot.outcome_distribution).toEqual(outcomeCounts);
    expect(snapshot.retry_reason_distribution).toEqual(reasons);
    expect(snapshot.cost_known_runs).toBe(events.filter((e) => e.cost_usd !== null).length);
    expect(snapshot.distributions.total_tokens.sum).toBe(events.reduce((s, e) => s + (e.total_tokens ?? 0), 0));
    expect(snapshot.distributions.retries.sum).toBe(events.reduce((s, e) => s + e.retries, 0));
    expect(snapshot.budget_exceeded_during_retry).toBe(events.filter((e) => e.budget_exceeded_during_retry).length);

    const sorted = events.map((e) => e.total_tokens!).sort((a, b) => a - b);
    for (const [q, key] of [[0.5, 'p50'], [0.95, 'p95'], [0.99, 'p99']] as const) {
      const exact = sorted[Math.floor(q * (sorted.length - 1))]!;
      const got = snapshot.percentiles.total_tokens[key]!;
      expect(Math.abs(got - exact) / exact).toBeLessThanOrEqual(0.01 + 1e-12);
    }
  });

  it('has Prometheus totals (meter.metrics()) that equal the RunEvents', () => {
    const text = meter.metrics('text');
    const sum = (metric: string, filter = ''): number =>
      text
        .split('\n')
        .filter((l) => l.startsWith(metric + '{') && l.includes(filter))
        .reduce((acc, l) => acc + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
    expect(sum('flowmeter_runs_finished_total')).toBe(200);
    expect(sum('flowmeter_runs_finished_total', 'outcome="success"')).toBe(events.filter((e) => e.outcome === 'success').length);
    expect(sum('flowmeter_tokens_total', 'direction="input"')).toBe(events.reduce((s, e) => s + (e.input_tokens ?? 0), 0));
    expect(sum('flowmeter_tokens_total', 'direction="output"')).toBe(events.reduce((s, e) => s + (e.output_tokens ?? 0), 0));
    expect(sum('flowmeter_cost_usd_total')).toBeCloseTo(events.reduce((s, e) => s + (e.cost_usd ?? 0), 0), 9);
    expect(sum('flowmeter_step_retries_total')).toBe(events.reduce((s, e) => s + e.retries, 0));
    expect(sum('flowmeter_inflight_steps')).toBe(0);
  });

  it('drops nothing', () => {
    const d = meter.diagnostics();
    expect(d.dropped_events).toBe(0);
    expect(d.dropped_values).toEqual({});
    expect(d.sink_errors).toEqual({});
    expect(d.internal_errors).toBe(0);
  });
});
