import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { GraphCancelledError, GraphTimeoutError, runGraph } from '../../../src/runtime/scheduler/index.js';
import type { TaskNode } from '../../../src/runtime/scheduler/index.js';
import { node, untilAborted } from './fixtures.js';

describe('runGraph timeouts and cancellation', () => {
  it('aborts in-flight nodes through their signal when the run times out', async () => {
    const signals: AbortSignal[] = [];
    let dependentRan = false;
    const nodes: TaskNode[] = [
      node(0),
      node(1, [0], { run: (_, { signal }) => (signals.push(signal), untilAborted(signal)) }),
      // Ignores its signal and never settles: the run must still end.
      node(2, [0], { run: (_, { signal }) => (signals.push(signal), new Promise(() => undefined)) }),
      node(3, [1, 2], { run: () => (dependentRan = true) }),
    ];
    const started = Date.now();
    const result = await runGraph({ nodes }, { timeoutMs: 20 });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(result.aborted).toBe(true);
    expect(result.abortReason).toBeInstanceOf(GraphTimeoutError);
    expect(signals).toHaveLength(2);
    expect(signals.every((s) => s.aborted && s.reason === result.abortReason)).toBe(true);
    expect([...result.failed].sort()).toEqual([1, 2]);
    expect(result.errors.get(1)).toBe(result.abortReason);
    expect(dependentRan).toBe(false);
    expect(result.outputs[0]).toBe('n0');
    expect(result.metrics.operations_failed).toBe(2);
  });

  it('cancels the run when the caller aborts its signal', async () => {
    const controller = new AbortController();
    let nodeSignal: AbortSignal | undefined;
    const nodes: TaskNode[] = [
      node(0, [], {
        run: (_, { signal }) => {
          nodeSignal = signal;
          setTimeout(() => controller.abort('user pressed stop'), 5);
          return untilAborted(signal);
        },
      }),
      node(1, [0]),
    ];
    const result = await runGraph({ nodes }, { signal: controller.signal, timeoutMs: 10_000 });
    expect(result.aborted).toBe(true);
    expect(result.abortReason).toBeInstanceOf(GraphCancelledError);
    expect((result.abortReason as Error).cause).toBe('user pressed stop');
    expect(nodeSignal?.aborted).toBe(true);
    expect(result.failed).toEqual([0]);
  });

  it('runs nothing when the signal is already aborted', async () => {
    let ran = false;
    const result = await runGraph({ nodes: [node(0, [], { run: () => (ran = true) })] }, { signal: AbortSignal.abort() });
    expect(ran).toBe(false);
    expect(result.aborted).toBe(true);
    expect(result.metrics.operations_executed).toBe(0);
  });

  it('removes its listener from the caller signal when the run ends', async () => {
    const controller = new AbortController();
    await runGraph({ nodes: [node(0, [], { run: () => expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1) })] }, { signal: controller.signal });
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });
});
