import { describe, expect, it } from 'vitest';
import { RUN_METRICS, RunStats } from '../../src/stats/run-stats.js';
import type { RunSnapshot } from '../../src/stats/run-stats.js';
import { formatSeconds, formatSnapshotTable, formatUsd } from '../../src/stats/snapshot-table.js';

const distribution = (count: number, sum: number) => ({ count, sum, min: count === 0 ? null : 0, max: count === 0 ? null : sum });

/** A small, hand-written snapshot whose every cell is known. */
const SNAPSHOT: RunSnapshot = {
  total_runs: 12,
  cost_known_runs: 10,
  cost_unknown_runs: 2,
  cost_coverage: 10 / 12,
  percentiles: {
    elapsed_seconds: { p50: 0.231, p95: 1.5, p99: 12.345 },
    cost_usd: { p50: 0.00231, p95: 0.0153, p99: 1.5 },
    total_tokens: { p50: 1234.4, p95: 15_000.6, p99: 250_000 },
    input_tokens: { p50: null, p95: null, p99: null },
    output_tokens: { p50: 300, p95: 999.5, p99: 1001 },
    retries: { p50: 0, p95: 2.01, p99: 4 },
  },
  outcome_distribution: { 'timeout|partial=1': 1, 'success|partial=0': 10, 'budget_exceeded|partial=1': 1 },
  retry_reason_distribution: { timeout: 1, rate_limit: 4 },
  budget_exceeded_during_retry: 1,
  budget_exceeded_during_retry_rate: 1 / 12,
  averages: { elapsed_seconds: 0.75, cost_usd: 0.005, total_tokens: 4_000 },
  distributions: {
    elapsed_seconds: distribution(12, 9),
    cost_usd: distribution(10, 0.05),
    total_tokens: distribution(12, 48_000),
    input_tokens: distribution(0, 0),
    output_tokens: distribution(12, 6_000),
    retries: distribution(12, 5),
  },
};

describe('formatSnapshotTable', () => {
  it('prints the header, percentile table, outcomes and retry reasons of a known snapshot', () => {
    expect(formatSnapshotTable(SNAPSHOT)).toBe(
      [
        'runs                          12',
        'cost coverage                 83.3% (10 of 12 runs with a known cost)',
        'budget exceeded during retry  8.3% (1 of 12 runs)',
        '',
        'metric                p50      p95      p99       avg',
        'elapsed_seconds    231 ms   1.50 s   12.3 s    750 ms',
        'cost_usd         $0.00231  $0.0153    $1.50  $0.00500',
        'total_tokens        1,234   15,001  250,000     4,000',
        'input_tokens            —        —        —         —',
        'output_tokens         300    1,000    1,001       500',
        'retries                 0        2        4      0.42',
        '',
        'outcome                    runs  share',
        'budget_exceeded|partial=1     1   8.3%',
        'success|partial=0            10  83.3%',
        'timeout|partial=1             1   8.3%',
        '',
        'retry reason  retries',
        'rate_limit          4',
        'timeout             1',
      ].join('\n'),
    );
  });

  it('says none recorded and shows — for every percentile of an empty snapshot', () => {
    const table = formatSnapshotTable(new RunStats().snapshot());
    for (const metric of RUN_METRICS) expect(table).toMatch(new RegExp(`^${metric}\\s+—\\s+—\\s+—\\s+—$`, 'm'));
    expect(table).toContain('outcome: none recorded');
    expect(table).toContain('retry reason: none recorded');
    expect(table).toContain('cost coverage                 0.0% (0 of 0 runs with a known cost)');
  });

  it('prints the same text whatever order the outcome keys were inserted in', () => {
    const reordered: RunSnapshot = {
      ...SNAPSHOT,
      outcome_distribution: { 'budget_exceeded|partial=1': 1, 'timeout|partial=1': 1, 'success|partial=0': 10 },
      retry_reason_distribution: { rate_limit: 4, timeout: 1 },
    };
    expect(formatSnapshotTable(reordered)).toBe(formatSnapshotTable(SNAPSHOT));
  });

  it('leaves no trailing spaces on any line', () => {
    expect(formatSnapshotTable(SNAPSHOT).split('\n').filter((line) => line !== line.trimEnd())).toEqual([]);
  });
});

describe('number formatting', () => {
  it.each([
    { seconds: 0, text: '0 s' },
    { seconds: 0.0004567, text: '0.457 ms' },
    { seconds: 0.098, text: '98.0 ms' },
    { seconds: 0.9996, text: '1.00 s' },
    { seconds: 9.996, text: '10.0 s' },
    { seconds: 3.14159, text: '3.14 s' },
    { seconds: 612.4, text: '612 s' },
    { seconds: 4321.9, text: '4322 s' },
  ])('formats $seconds seconds as $text', ({ seconds, text }) => {
    expect(formatSeconds(seconds)).toBe(text);
  });

  it.each([
    { usd: 0, text: '$0' },
    { usd: 0.00231, text: '$0.00231' },
    { usd: 0.000000123, text: '$0.000000123' },
    { usd: 0.5, text: '$0.500' },
    { usd: 0.09996, text: '$0.100' },
    { usd: 12.345, text: '$12.35' },
  ])('formats $usd USD as $text', ({ usd, text }) => {
    expect(formatUsd(usd)).toBe(text);
  });
});
