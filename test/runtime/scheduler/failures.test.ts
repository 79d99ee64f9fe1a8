import { describe, expect, it } from 'vitest';
import { DependencyFailedError, GraphValidationError, runGraph } from '../../../src/runtime/scheduler/index.js';
import type { TaskNode } from '../../../src/runtime/scheduler/index.js';
import { node } from './fixtures.js';

const boom = (): never => {
  throw new Error('boom');
};

describe('runGraph failure propagation', () => {
  it('fails the dependents of a failed node transitively and leaves siblings running', async () => {
    const calls: number[] = [];
    const rec = (i: number, fn?: () => unknown) => () => (calls.push(i), fn ? fn() : i);
    const nodes: TaskNode[] = [
      node(0, [], { run: rec(0) }),
      node(1, [0], { run: rec(1, () => Promise.reject(new Error('llm down'))) }),
      node(2, [1], { run: rec(2) }),
      node(3, [2], { run: rec(3) }),
      node(4, [0], { run: rec(4) }),
      node(5, [4, 1], { run: rec(5) }),
      node(6, [4], { run: rec(6) }),
    ];
    const result = await runGraph({ nodes });
    expect([...result.failed].sort()).toEqual([1, 2, 3, 5]);
    expect(calls.sort()).toEqual([0, 1, 4, 6]);
    expect((result.errors.get(1) as Error).message).toBe('llm down');
    expect(result.errors.get(3)).toBeInstanceOf(DependencyFailedError);
    expect((result.errors.get(5) as DependencyFailedError).failedDependency).toBe(1);
    expect(result.outputs[6]).toBe(6);
    expect(result.metrics.operations_executed).toBe(4);
    expect(result.metrics.operations_failed).toBe(1);
    expect(result.aborted).toBe(false);
  });

  it('treats a synchronous throw like a rejected promise', async () => {
    const result = await runGraph({ nodes: [node(0, [], { run: boom }), node(1, [0])] });
    expect(result.failed).toEqual([0, 1]);
    expect(result.metrics.operations_failed).toBe(1);
  });

  it('runs a fallback only when its target failed and routes its output to the target consumers', async () => {
    let consumerSaw: unknown;
    const nodes: TaskNode[] = [
      node(0, [], { run: () => 'question' }),
      node(1, [0], { run: boom }),
      node(2, [0], { fallbackFor: 1, run: ([q]) => `default for ${String(q)}` }),
      node(3, [1], { run: ([answer]) => (consumerSaw = answer) }),
    ];
    const result = await runGraph({ nodes });
    expect(consumerSaw).toBe('default for question');
    expect(result.failed).toEqual([1]);
    expect(result.outputs[3]).toBe('default for question');
    expect(result.skipped).toEqual([]);
  });

  it('skips the fallback when its target succeeds', async () => {
    let fallbackCalls = 0;
    const nodes: TaskNode[] = [
      node(0, [], { run: () => 'input' }),
      node(1, [0], { run: () => 'case' }),
      node(2, [0], { fallbackFor: 1, run: () => fallbackCalls++ }),
      node(3, [1]),
    ];
    const result = await runGraph({ nodes });
    expect(fallbackCalls).toBe(0);
    expect(result.skipped).toEqual([2]);
    expect(result.outputs[3]).toBe('n3');
    expect(result.failed).toEqual([]);
  });

  it('fails the target consumers when the fallback fails too', async () => {
    const nodes: TaskNode[] = [node(0, [], { run: boom }), node(1, [], { fallbackFor: 0, run: boom }), node(2, [0])];
    const result = await runGraph({ nodes });
    expect([...result.failed].sort()).toEqual([0, 1, 2]);
    expect(result.metrics.operations_failed).toBe(2);
  });
});

describe('runGraph validation', () => {
  it('rejects a cycle and names the nodes on it', () => {
    const nodes = [node(0), node(1, [0, 3], { name: 'plan' }), node(2, [1], { name: 'act' }), node(3, [2], { name: 'reflect' })];
    expect(() => runGraph({ nodes })).toThrow(GraphValidationError);
    expect(() => runGraph({ nodes })).toThrow(/cycle: .*1 \(plan\).*2 \(act\).*3 \(reflect\)/);
  });

  it('rejects a dependency that is not a node id', () => {
    expect(() => runGraph({ nodes: [node(0), node(1, [7])] })).toThrow('node 1 (n1) depends on 7, which is not a node id (0..1)');
  });

  it('rejects ids out of order, self-dependencies and two fallbacks for one node', () => {
    expect(() => runGraph({ nodes: [node(1)] })).toThrow(/ids must be 0..n-1/);
    expect(() => runGraph({ nodes: [node(0, [0])] })).toThrow(/depends on itself/);
    expect(() => runGraph({ nodes: [node(0), node(1, [], { fallbackFor: 0 }), node(2, [], { fallbackFor: 0 })] })).toThrow(/two fallbacks/);
  });

  it('rejects a cycle made through a fallback edge', () => {
    expect(() => runGraph({ nodes: [node(0, [1]), node(1, [], { fallbackFor: 0 })] })).toThrow(/cycle/);
  });

  it('rejects a fallback that depends on the output of the node it stands in for', () => {
    expect(() => runGraph({ nodes: [node(0), node(1, [0]), node(2, [1], { fallbackFor: 0 })] })).toThrow('node 2 (n2) is the fallback for node 0 but depends on its output');
  });

  it('rejects a bad concurrency limit before running anything', () => {
    let ran = false;
    expect(() => runGraph({ nodes: [node(0, [], { run: () => (ran = true) })] }, { concurrency: 0 })).toThrow(RangeError);
    expect(ran).toBe(false);
  });

  it('finishes an empty graph', async () => {
    const result = await runGraph({ nodes: [] });
    expect(result.metrics.operations_executed).toBe(0);
    expect(result.metrics.per_op_overhead_us).toBe(0);
  });
});
