import { afterEach, describe, expect, it, vi } from 'vitest';
import { CircuitOpenError, runGraph } from '../../../src/runtime/scheduler/index.js';
import type { TaskNode } from '../../../src/runtime/scheduler/index.js';
import type { RetryReason } from '../../../src/model/index.js';
import { node } from './fixtures.js';

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly retryAfterSeconds?: number,
  ) {
    super(`HTTP ${status}`);
  }
}

/** A node that fails with the given errors, in turn, then returns 'ok'. */
function flaky(id: number, errors: readonly Error[], extra: Partial<TaskNode> = {}): TaskNode & { attempts: number[] } {
  const attempts: number[] = [];
  return {
    ...node(id, [], extra),
    attempts,
    run: (_, { attempt }) => {
      attempts.push(attempt);
      const err = errors[attempts.length - 1];
      return err === undefined ? 'ok' : Promise.reject(err);
    },
  };
}

const retry = { maxAttempts: 4, baseDelayMs: 4, maxDelayMs: 100, jitter: 0.5 };

describe('runGraph retries', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('retries with exponential backoff and jitter, calling onRetry with the reason', async () => {
    const n = flaky(0, [new HttpError(503), new HttpError(502)]);
    const seen: [string, RetryReason, number, number][] = [];
    const result = await runGraph({ nodes: [n] }, { retry, random: () => 0.5, onRetry: (nd, reason, attempt, backoff) => seen.push([nd.name, reason, attempt, backoff]) });
    expect(result.outputs[0]).toBe('ok');
    expect(n.attempts).toEqual([1, 2, 3]);
    // 4 ms * 2^(retry-1), less half of the 0.5 jitter share.
    expect(seen).toEqual([
      ['n0', 'server_error', 1, 0.003],
      ['n0', 'server_error', 2, 0.006],
    ]);
    expect(result.metrics.operations_executed).toBe(1);
    expect(result.metrics.operations_failed).toBe(0);
  });

  it('waits for Retry-After instead of the computed backoff', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const n = flaky(0, [new HttpError(429, 30)]);
    const reasons: [RetryReason, number][] = [];
    const pending = runGraph({ nodes: [n] }, { retry, onRetry: (_, reason, __, backoff) => reasons.push([reason, backoff]) });
    await vi.advanceTimersByTimeAsync(29_000);
    expect(n.attempts).toEqual([1]);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(n.attempts).toEqual([1, 2]);
    expect(reasons).toEqual([['rate_limit', 30]]);
    expect((await pending).outputs[0]).toBe('ok');
  });

  it('does not retry an error the classifier calls permanent, and stops at maxAttempts', async () => {
    const permanent = flaky(0, [new HttpError(400)]);
    const stubborn = flaky(1, [new HttpError(500), new HttpError(500), new HttpError(500), new HttpError(500), new HttpError(500)]);
    const result = await runGraph({ nodes: [permanent, stubborn] }, { retry });
    expect(permanent.attempts).toEqual([1]);
    expect(stubborn.attempts).toEqual([1, 2, 3, 4]);
    expect(result.failed).toEqual([0, 1]);
    expect(result.metrics.operations_failed).toBe(2);
  });

  it('uses a custom classifier', async () => {
    const n = flaky(0, [new Error('flaky tool')]);
    const result = await runGraph({ nodes: [n] }, { retry: { ...retry, classify: () => 'unknown' } });
    expect(n.attempts).toEqual([1, 2]);
    expect(result.failed).toEqual([]);
  });
});

describe('runGraph circuit breaker', () => {
  it('opens after the threshold, fails fast with CircuitOpenError, and closes after the cooldown', async () => {
    let clock = 0;
    const calls: number[] = [];
    const on = (id: number, provider: string, priority: number, run: () => unknown, deps: number[] = []): TaskNode =>
      node(id, deps, { provider, priority, run: () => (calls.push(id), run()) });
    const fail = (): never => {
      throw new HttpError(500);
    };
    const nodes: TaskNode[] = [
      on(0, 'openai', 10, fail),
      on(1, 'openai', 9, fail),
      on(2, 'openai', 8, () => 'never called'),
      // Another provider is unaffected; it also moves the clock past the cooldown.
      on(3, 'anthropic', 7, () => (clock += 1_500)),
      on(4, 'openai', 6, () => 'half-open call', [3]),
      on(5, 'openai', 5, fail, [4]),
      on(6, 'openai', 4, () => 'closed again', [4]),
    ];
    const result = await runGraph({ nodes }, { concurrency: 1, circuitBreaker: { failureThreshold: 2, cooldownMs: 1_000 }, now: () => clock });
    expect(calls).toEqual([0, 1, 3, 4, 5, 6]);
    expect(result.errors.get(2)).toBeInstanceOf(CircuitOpenError);
    expect((result.errors.get(2) as CircuitOpenError).retryAtMs).toBe(1_000);
    expect(result.outputs[4]).toBe('half-open call');
    // One failure after a success does not reopen a closed circuit with threshold 2.
    expect(result.outputs[6]).toBe('closed again');
    expect(result.failed).toEqual([0, 1, 2, 5]);
  });
});

describe('runGraph circuit breaker half-open', () => {
  it('reopens at once when the first call after the cooldown fails', async () => {
    let clock = 0;
    const calls: number[] = [];
    const nodes: TaskNode[] = [
      node(0, [], { provider: 'p', priority: 9, run: () => (calls.push(0), Promise.reject(new HttpError(500))) }),
      node(1, [], { provider: 'q', priority: 8, run: () => (clock += 100) }),
      node(2, [1], { provider: 'p', priority: 7, run: () => (calls.push(2), Promise.reject(new HttpError(500))) }),
      node(3, [], { fallbackFor: 2, provider: 'p', run: () => calls.push(3) }),
    ];
    const result = await runGraph({ nodes }, { concurrency: 1, circuitBreaker: { failureThreshold: 1, cooldownMs: 50 }, now: () => clock });
    expect(calls).toEqual([0, 2]);
    expect(result.errors.get(3)).toBeInstanceOf(CircuitOpenError);
  });
});
