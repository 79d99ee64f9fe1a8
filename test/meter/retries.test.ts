import { describe, expect, it } from 'vitest';
import type { RetryReason } from '../../src/model/index.js';
import { harness, nextMacrotask } from './fixtures.js';

describe('retries', () => {
  it('counts retries by reason and sums their backoff in the RunEvent', async () => {
    const { meter, sink } = harness();
    const result = await meter.runSettled({}, () => {
      meter.retry('rate_limit', 1.5);
      meter.retry('rate_limit', 2.5);
      meter.retry('server_error', 0.25);
      meter.retry('connection_error');
    });
    expect(result.event).toMatchObject({
      retries: 4,
      retries_by_reason: { rate_limit: 2, server_error: 1, connection_error: 1 },
      retry_backoff_seconds: 4.25,
    });
    expect(sink.ofKind('retry').map((r) => [r.reason, r.attempt, r.backoff_seconds])).toEqual([
      ['rate_limit', 1, 1.5],
      ['rate_limit', 2, 2.5],
      ['server_error', 3, 0.25],
      ['connection_error', 4, 0],
    ]);
    expect(result.summary).toContain('retries: 4');
  });

  it('numbers attempts per step, and separately for retries outside any step', async () => {
    const { meter, sink } = harness();
    await meter.runSettled({}, async (run) => {
      run.retry('timeout');
      await run.step('a', () => {
        meter.retry('rate_limit');
        meter.retry('rate_limit');
      });
      await run.step('b', () => meter.retry('rate_limit'));
      run.retry('timeout');
      run.retry('unknown', 0, { stepId: 'a' });
    });
    expect(sink.ofKind('retry').map((r) => `${r.step_id ?? '-'}#${r.attempt}`)).toEqual(['-#1', 'a#1', 'a#2', 'b#1', '-#2', 'a#3']);
  });

  it('keeps an invalid reason as unknown and counts it', async () => {
    const { meter, sink, warnings } = harness();
    const result = await meter.runSettled({}, (run) => {
      run.retry('flaky_wifi' as RetryReason);
      run.retry(42 as unknown as RetryReason);
    });
    expect(result.event).toMatchObject({ retries: 2, retries_by_reason: { unknown: 2 } });
    expect(sink.ofKind('retry').every((r) => r.reason === 'unknown')).toBe(true);
    expect(meter.diagnostics().dropped_values).toEqual({ 'retry_reason:unknown_name': 2 });
    expect(warnings.filter((w) => w.code === 'FLOWMETER_DROPPED_VALUE')).toHaveLength(1);
    expect(meter.snapshot().retry_reason_distribution).toEqual({ unknown: 2 });
  });

  it('keeps the retry but drops an invalid backoff (counted as 0)', async () => {
    const { meter } = harness();
    const result = await meter.runSettled({}, (run) => {
      run.retry('rate_limit', -1);
      run.retry('rate_limit', Number.NaN);
      run.retry('rate_limit', Number.POSITIVE_INFINITY);
      run.retry('rate_limit', 2);
    });
    expect(result.event).toMatchObject({ retries: 4, retry_backoff_seconds: 2 });
    expect(meter.diagnostics().dropped_values).toEqual({
      'backoff_seconds:negative': 1,
      'backoff_seconds:nan': 1,
      'backoff_seconds:infinite': 1,
    });
  });

  it('adds every run retry reasons to the snapshot distribution', async () => {
    const { meter } = harness();
    await meter.runSettled({}, () => meter.retry('rate_limit'));
    await meter.runSettled({}, () => {
      meter.retry('rate_limit');
      meter.retry('timeout');
    });
    expect(meter.snapshot().retry_reason_distribution).toEqual({ rate_limit: 2, timeout: 1 });
  });

  it('records nothing for a retry after the run finished, and counts it as late', async () => {
    const { meter, sink } = harness();
    let held: Parameters<Parameters<typeof meter.run>[1]>[0] | undefined;
    const result = await meter.runSettled({}, (run) => {
      held = run;
    });
    held!.retry('rate_limit', 1);
    await nextMacrotask();
    expect(result.event!.retries).toBe(0);
    expect(sink.ofKind('retry')).toHaveLength(0);
    expect(meter.diagnostics().late_events).toBe(1);
  });
});
