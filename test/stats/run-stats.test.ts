import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../../src/model/run-event.js';
import { OUTCOMES } from '../../src/model/outcome.js';
import { RUN_METRICS, RunStats } from '../../src/stats/run-stats.js';
import { mulberry32, normal, runEvent } from './fixtures.js';

function statsOf(events: readonly RunEvent[]): RunStats {
  const stats = new RunStats();
  for (const event of events) stats.observe(event);
  return stats;
}

/** A varied, seeded population of runs: skewed latencies and costs, some unknowns, retries. */
function randomRuns(count: number, seed: number): RunEvent[] {
  const random = mulberry32(seed);
  return Array.from({ length: count }, (_, index) => {
    const input = Math.round(Math.exp(6 + normal(random)));
    const output = Math.round(Math.exp(5 + 0.8 * normal(random)));
    const tokensKnown = random() > 0.1;
    const retries = random() < 0.8 ? 0 : 1 + Math.floor(random() * 4);
    const outcome = OUTCOMES[Math.floor(random() * OUTCOMES.length)]!;
    return runEvent({
      run_id: `run-${index}`,
      outcome,
      success: outcome === 'success',
      partial: outcome === 'budget_exceeded' || outcome === 'timeout' ? random() < 0.5 : false,
      elapsed_seconds: Math.exp(0.3 + normal(random)),
      input_tokens: tokensKnown ? input : null,
      output_tokens: tokensKnown ? output : null,
      total_tokens: tokensKnown ? input + output : null,
      cost_usd: random() < 0.25 ? null : (input * 0.15 + output * 0.6) / 1_000_000,
      retries,
      retries_by_reason: retries === 0 ? {} : random() < 0.5 ? { rate_limit: retries } : { timeout: 1, server_error: retries - 1 },
      budget_exceeded_during_retry: retries > 0 && outcome === 'budget_exceeded',
    });
  });
}

describe('RunStats snapshot', () => {
  it('gives zero counts and null percentiles, averages and extremes when nothing was observed', () => {
    const nullPercentiles = { p50: null, p95: null, p99: null };
    const emptyDistribution = { count: 0, sum: 0, min: null, max: null };
    expect(new RunStats().snapshot()).toEqual({
      total_runs: 0,
      cost_known_runs: 0,
      cost_unknown_runs: 0,
      cost_coverage: 0,
      percentiles: Object.fromEntries(RUN_METRICS.map((metric) => [metric, nullPercentiles])),
      outcome_distribution: {},
      retry_reason_distribution: {},
      budget_exceeded_during_retry: 0,
      budget_exceeded_during_retry_rate: 0,
      averages: { elapsed_seconds: null, cost_usd: null, total_tokens: null },
      distributions: Object.fromEntries(RUN_METRICS.map((metric) => [metric, emptyDistribution])),
    });
  });

  it('has exactly enzu snapshot keys plus distributions', () => {
    expect(Object.keys(statsOf([runEvent()]).snapshot()).sort()).toEqual(
      [
        'averages',
        'budget_exceeded_during_retry',
        'budget_exceeded_during_retry_rate',
        'cost_coverage',
        'cost_known_runs',
        'cost_unknown_runs',
        'distributions',
        'outcome_distribution',
        'percentiles',
        'retry_reason_distribution',
        'total_runs',
      ].sort(),
    );
  });

  it('computes cost coverage as known / (known + unknown) and leaves unknown costs out of cost percentiles', () => {
    const snapshot = statsOf([
      runEvent({ cost_usd: 0.002 }),
      runEvent({ cost_usd: 0.002 }),
      runEvent({ cost_usd: null }),
      runEvent({ cost_usd: 0 }),
    ]).snapshot();
    expect([snapshot.total_runs, snapshot.cost_known_runs, snapshot.cost_unknown_runs]).toEqual([4, 3, 1]);
    expect(snapshot.cost_coverage).toBe(0.75);
    expect(snapshot.distributions.cost_usd).toEqual({ count: 3, sum: 0.004, min: 0, max: 0.002 });
    expect(snapshot.percentiles.cost_usd.p99).toBe(0.002);
  });

  it('keeps unknown token counts out of token percentiles instead of counting them as zero', () => {
    const snapshot = statsOf([
      runEvent({ input_tokens: null, output_tokens: null, total_tokens: null }),
      runEvent({ input_tokens: 800, output_tokens: 200, total_tokens: 1000 }),
    ]).snapshot();
    expect(snapshot.percentiles.total_tokens).toEqual({ p50: 1000, p95: 1000, p99: 1000 });
    expect(snapshot.distributions.input_tokens.count).toBe(1);
    expect(snapshot.averages.total_tokens).toBe(1000);
  });

  it("keys outcomes by outcome and partial flag in enzu's format, sorted", () => {
    const snapshot = statsOf([
      runEvent({ outcome: 'timeout', success: false, partial: false }),
      runEvent(),
      runEvent({ outcome: 'budget_exceeded', success: false, partial: true }),
      runEvent(),
      runEvent({ outcome: 'budget_exceeded', success: false, partial: false }),
    ]).snapshot();
    expect(snapshot.outcome_distribution).toEqual({
      'budget_exceeded|partial=0': 1,
      'budget_exceeded|partial=1': 1,
      'success|partial=0': 2,
      'timeout|partial=0': 1,
    });
    expect(Object.keys(snapshot.outcome_distribution)).toEqual([
      'budget_exceeded|partial=0',
      'budget_exceeded|partial=1',
      'success|partial=0',
      'timeout|partial=0',
    ]);
  });

  it('sums retries by reason across runs', () => {
    const snapshot = statsOf([
      runEvent({ retries: 3, retries_by_reason: { rate_limit: 2, timeout: 1 } }),
      runEvent({ retries: 3, retries_by_reason: { rate_limit: 3 } }),
      runEvent({ retries: 0, retries_by_reason: {} }),
    ]).snapshot();
    expect(snapshot.retry_reason_distribution).toEqual({ rate_limit: 5, timeout: 1 });
    expect(snapshot.distributions.retries).toEqual({ count: 3, sum: 6, min: 0, max: 3 });
  });

  it('rates budget exceeded during retry over all runs, as enzu does', () => {
    const snapshot = statsOf([
      runEvent({ outcome: 'budget_exceeded', success: false, retries: 2, budget_exceeded_during_retry: true }),
      runEvent({ retries: 1 }),
      runEvent(),
      runEvent(),
    ]).snapshot();
    expect(snapshot.budget_exceeded_during_retry).toBe(1);
    expect(snapshot.budget_exceeded_during_retry_rate).toBe(0.25);
  });

  it('averages elapsed seconds, cost and total tokens over the runs that have them', () => {
    const snapshot = statsOf([
      runEvent({ elapsed_seconds: 1, cost_usd: 0.001, total_tokens: 100 }),
      runEvent({ elapsed_seconds: 2, cost_usd: null, total_tokens: null }),
      runEvent({ elapsed_seconds: 6, cost_usd: 0.003, total_tokens: 300 }),
    ]).snapshot();
    expect(snapshot.averages.elapsed_seconds).toBe(3);
    expect(snapshot.averages.cost_usd).toBeCloseTo(0.002, 15);
    expect(snapshot.averages.total_tokens).toBe(200);
  });

  it('reads p50, p95 and p99 within 1% of the exact order statistics', () => {
    // 1…100 seconds: ranks 49, 94.05 and 98.01 select 50, 95 and 99.
    const snapshot = statsOf(Array.from({ length: 100 }, (_, index) => runEvent({ elapsed_seconds: index + 1 }))).snapshot();
    const { p50, p95, p99 } = snapshot.percentiles.elapsed_seconds;
    expect(Math.abs(p50! - 50) / 50).toBeLessThanOrEqual(0.01);
    expect(Math.abs(p95! - 95) / 95).toBeLessThanOrEqual(0.01);
    expect(Math.abs(p99! - 99) / 99).toBeLessThanOrEqual(0.01);
  });

  it('reports a retries median of exactly 0 when most runs did not retry', () => {
    const events = [...Array.from({ length: 90 }, () => runEvent()), ...Array.from({ length: 10 }, () => runEvent({ retries: 4 }))];
    const { p50, p95 } = statsOf(events).snapshot().percentiles.retries;
    expect(p50).toBe(0);
    expect(p95).toBe(4);
  });
});

describe('RunStats merge and serialization', () => {
  const events = randomRuns(2_000, 42);

  it('gives the same snapshot after merging two meters as observing every run in one', () => {
    const whole = statsOf(events).snapshot();
    const merged = statsOf(events.slice(0, 700));
    merged.merge(statsOf(events.slice(700)));
    const snapshot = merged.snapshot();
    expect(snapshot.percentiles).toEqual(whole.percentiles);
    expect(snapshot.outcome_distribution).toEqual(whole.outcome_distribution);
    expect(snapshot.retry_reason_distribution).toEqual(whole.retry_reason_distribution);
    expect([snapshot.total_runs, snapshot.cost_known_runs, snapshot.cost_unknown_runs, snapshot.budget_exceeded_during_retry]).toEqual([
      whole.total_runs,
      whole.cost_known_runs,
      whole.cost_unknown_runs,
      whole.budget_exceeded_during_retry,
    ]);
    for (const metric of RUN_METRICS) {
      const { count, sum, min, max } = snapshot.distributions[metric];
      expect([count, min, max]).toEqual([whole.distributions[metric].count, whole.distributions[metric].min, whole.distributions[metric].max]);
      // Floating-point addition in a different order may differ in the last bits.
      expect(sum).toBeCloseTo(whole.distributions[metric].sum, 9);
    }
  });

  it('leaves the merged-in stats unchanged', () => {
    const source = statsOf(events.slice(0, 10));
    const before = source.snapshot();
    new RunStats().merge(source);
    statsOf(events.slice(10, 20)).merge(source);
    expect(source.snapshot()).toEqual(before);
  });

  it('keeps every snapshot value through toJSON, JSON text and fromJSON', () => {
    const stats = statsOf(events);
    const restored = RunStats.fromJSON(JSON.parse(JSON.stringify(stats)));
    expect(restored.snapshot()).toEqual(stats.snapshot());
  });

  it('merges stats restored from two processes into the stats of all runs', () => {
    const first = RunStats.fromJSON(JSON.parse(JSON.stringify(statsOf(events.slice(0, 1_500)))));
    first.merge(RunStats.fromJSON(JSON.parse(JSON.stringify(statsOf(events.slice(1_500))))));
    expect(first.snapshot().percentiles).toEqual(statsOf(events).snapshot().percentiles);
  });

  it('rejects a state with another format, an unknown outcome or a broken sketch', () => {
    const state = statsOf(events.slice(0, 5)).toJSON();
    expect(() => RunStats.fromJSON({ ...state, format: 'enzu.v1' })).toThrow(/format/);
    expect(() => RunStats.fromJSON({ ...state, outcomes: { 'done|partial=0': 1 } })).toThrow(/unknown outcome key/);
    expect(() => RunStats.fromJSON({ ...state, sketches: { ...state.sketches, retries: 42 } })).toThrow(/sketches.retries/);
    expect(() => RunStats.fromJSON({ ...state, total_runs: 6 })).toThrow(/total_runs/);
    expect(() => RunStats.fromJSON(null)).toThrow(TypeError);
  });
});
