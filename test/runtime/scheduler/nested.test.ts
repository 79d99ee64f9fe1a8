import { describe, expect, it } from 'vitest';
import { SchedulerClock, runGraph } from '../../../src/runtime/scheduler/index.js';
import type { TaskContext } from '../../../src/runtime/scheduler/index.js';
import { node, sleep, untilAborted } from './fixtures.js';

/** A container node that runs `width` parallel 15 ms nodes in a nested graph sharing `clock`. */
function nestedFanOut(id: number, deps: number[], width: number, clock: SchedulerClock, fail = false) {
  return node(id, deps, {
    container: true,
    run: async (_inputs: readonly unknown[], ctx: TaskContext) => {
      const inner = await runGraph(
        { nodes: Array.from({ length: width }, (_, i) => node(i, [], { run: async () => { await sleep(15); if (fail && i === 0) throw new Error('inner failed'); return i; } })) },
        { clock, signal: ctx.signal },
      );
      if (inner.failed.length > 0) throw new Error('nested graph failed');
      return inner.outputs;
    },
  });
}

describe('runGraph nested graphs sharing a clock', () => {
  it('counts the nested nodes, not the container, as operations and in parallelism', async () => {
    const clock = new SchedulerClock();
    const result = await runGraph({ nodes: [node(0), nestedFanOut(1, [0], 3, clock), node(2, [1])] }, { clock });
    expect(result.failed).toEqual([]);
    expect(result.outputs[1]).toEqual([0, 1, 2]);
    // Outer: nodes 0 and 2; inner: three. The container itself is not an operation.
    expect(result.metrics.operations_executed).toBe(5);
    // The three inner nodes overlap; the container does not add a fourth.
    expect(result.metrics.max_parallelism).toBe(3);
    expect(result.metrics.avg_parallelism).toBeGreaterThan(2);
    expect(result.metrics.avg_parallelism).toBeLessThanOrEqual(3);
  });

  it('counts a failed inner node once; the container failing is not another failed operation', async () => {
    const clock = new SchedulerClock();
    const result = await runGraph({ nodes: [nestedFanOut(0, [], 2, clock, true), node(1, [0])] }, { clock });
    expect(result.failed).toEqual([0, 1]);
    expect(result.metrics.operations_executed).toBe(2);
    expect(result.metrics.operations_failed).toBe(1);
  });

  it('a cancel reaches the nested graph and leaves nothing in flight', async () => {
    const clock = new SchedulerClock();
    const controller = new AbortController();
    const container = node(0, [], {
      container: true,
      run: async (_inputs: readonly unknown[], ctx: TaskContext) => {
        const inner = await runGraph({ nodes: [node(0, [], { run: (_i: readonly unknown[], c: TaskContext) => untilAborted(c.signal) })] }, { clock, signal: ctx.signal });
        throw inner.abortReason;
      },
    });
    setTimeout(() => controller.abort(new Error('stop')), 10);
    const result = await runGraph({ nodes: [container] }, { clock, signal: controller.signal });
    expect(result.aborted).toBe(true);
    expect(clock.inFlight).toBe(0);
    expect(result.metrics.operations_executed).toBe(1);
    expect(result.metrics.operations_failed).toBe(1);
  });
});
