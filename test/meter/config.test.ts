import { describe, expect, it, vi } from 'vitest';
import { MeterConfigError, createMeter } from '../../src/meter/index.js';
import type { MeterOptions } from '../../src/meter/index.js';

const base: MeterOptions = { runsDir: false, log: false, env: {} };

function configError(options: MeterOptions): MeterConfigError {
  try {
    createMeter({ ...base, ...options });
  } catch (err) {
    expect(err).toBeInstanceOf(MeterConfigError);
    expect((err as Error).name).toBe('MeterConfigError');
    return err as MeterConfigError;
  }
  throw new Error(`createMeter accepted ${JSON.stringify(options)}`);
}

describe('configuration mistakes throw at construction with a message that says what to do', () => {
  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('rejects queueCapacity %s', (queueCapacity) => {
    expect(configError({ queueCapacity }).message).toBe(`queueCapacity must be a positive integer, got ${String(queueCapacity)}`);
  });

  it('rejects a non-positive flushTimeoutMs', () => {
    expect(configError({ flushTimeoutMs: 0 }).message).toMatch(/^flushTimeoutMs must be a positive integer/);
  });

  it('rejects an unknown log format, from options or from FLOWMETER_LOG_FORMAT', () => {
    expect(configError({ log: { format: 'xml' as 'json' } }).message).toBe('log format "xml" is not supported; use "logfmt" or "json"');
    expect(configError({ log: undefined, env: { FLOWMETER_LOG_FORMAT: 'yaml' } }).message).toContain('"yaml" is not supported');
  });

  it.each([
    ['maxTokens', -1],
    ['maxTokens', Number.NaN],
    ['maxCostUsd', Number.POSITIVE_INFINITY],
    ['timeoutMs', '100'],
  ])('rejects budget.%s = %s', (field, value) => {
    expect(configError({ budget: { [field]: value } }).message).toBe(`budget.${field} must be a non-negative number, got ${String(value)}`);
  });

  it('rejects a bad per-run budget before calling the function', async () => {
    const meter = createMeter(base);
    const fn = vi.fn(() => 1);
    await expect(meter.runSettled({ budget: { timeoutMs: -5 } }, fn)).rejects.toThrow('budget.timeoutMs must be a non-negative number, got -5');
    expect(() => meter.flowStart({ budget: { maxTokens: Number.NaN } })).toThrow(MeterConfigError);
    expect(fn).not.toHaveBeenCalled();
  });

  it.each(['FLOWMETER_ENABLE_METRICS', 'AR_ENABLE_METRICS'])('rejects %s=maybe', (name) => {
    expect(configError({ env: { [name]: 'maybe' } }).message).toBe(`${name}=maybe is not understood; use 1 or 0`);
  });

  it('rejects an unknown exec mode', () => {
    expect(configError({ defaults: { execMode: 'staging' as 'live' } }).message).toBe('exec mode "staging" is not supported; use "live" or "dry_run"');
  });

  it('rejects a bad price given in code', () => {
    expect(() => createMeter({ ...base, prices: { models: { m: { input: -1, output: 1 } } } })).toThrow();
  });

  it('accepts a valid configuration', () => {
    const meter = createMeter({ ...base, queueCapacity: 1, flushTimeoutMs: 1, budget: { maxTokens: 0, maxCostUsd: 0.5, timeoutMs: 1000 }, log: false });
    expect(meter.enabled).toBe(true);
  });
});

describe('run identity defaults', () => {
  it('takes defaults from options, then the environment, then built-in values', async () => {
    const meter = createMeter({ ...base, env: { FLOWMETER_EXEC_MODE: 'dry_run', FLOWMETER_BRANCH: 'feature_x' }, defaults: { flowId: 'support', agent: 'helper' } });
    const result = await meter.runSettled({ taskId: 'T-0099', attributes: { ticket: 42 } }, () => 1);
    expect(result.event).toMatchObject({ flow_id: 'support', agent: 'helper', exec_mode: 'dry_run', branch: 'feature_x', task_id: 'T-0099', attributes: { ticket: 42 } });
    const plain = await createMeter(base).runSettled({}, () => 1);
    expect(plain.event).toMatchObject({ flow_id: 'default', agent: 'default', exec_mode: 'live', branch: 'unknown', task_id: null, attributes: {} });
  });

  it('generates distinct, time-sortable run ids', async () => {
    const meter = createMeter(base);
    const ids: string[] = [];
    for (let i = 0; i < 50; i++) ids.push((await meter.runSettled({}, () => 1)).event!.run_id);
    expect(new Set(ids).size).toBe(50);
    // Sortable by start time to the millisecond; the random tail orders runs within one.
    const stamps = ids.map((id) => id.split('_')[0]!);
    expect([...stamps].sort()).toEqual(stamps);
    expect(ids[0]).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z_[0-9a-f]{12}$/);
  });
});
