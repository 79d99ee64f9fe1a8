import { describe, expect, it } from 'vitest';
import { runGraph } from '../../../src/runtime/scheduler/index.js';
import type { TaskNode } from '../../../src/runtime/scheduler/index.js';
import { layeredDeps, node, sleep } from './fixtures.js';

describe('runGraph ordering and routing', () => {
  it('runs every node after all of its dependencies on a random layered DAG', async () => {
    const deps = layeredDeps(600, 20, 7);
    const order: number[] = [];
    const nodes = deps.map((d, i) => node(i, d, { run: async () => (order.push(i), i % 3 === 0 ? sleep(0) : undefined) }));
    const result = await runGraph({ nodes });
    expect(order).toHaveLength(600);
    const position = new Int32Array(600);
    order.forEach((id, at) => (position[id] = at));
    for (let i = 0; i < 600; i++) for (const d of deps[i]!) expect(position[d]).toBeLessThan(position[i]!);
    expect(result.failed).toEqual([]);
    expect(result.metrics.operations_executed).toBe(600);
  });

  it('runs ready nodes by priority, higher first, ties by lower id', async () => {
    const order: number[] = [];
    const rec = (i: number) => () => order.push(i);
    const nodes: TaskNode[] = [
      node(0, [], { run: rec(0) }),
      node(1, [0], { run: rec(1), priority: 1 }),
      node(2, [0], { run: rec(2), priority: 5 }),
      node(3, [0], { run: rec(3), priority: 3 }),
      node(4, [0], { run: rec(4), priority: 3 }),
      // Becomes ready after node 2 and jumps ahead of the lower-priority nodes still waiting.
      node(5, [2], { run: rec(5), priority: 10 }),
    ];
    await runGraph({ nodes }, { concurrency: 1 });
    expect(order).toEqual([0, 2, 5, 3, 4, 1]);
  });

  it('routes outputs into the consumer inputs in dependency order', async () => {
    let seen: readonly unknown[] = [];
    const nodes: TaskNode[] = [
      node(0, [], { run: () => 'zero' }),
      node(1, [], { run: async () => (await sleep(2), 'one') }),
      node(2, [], { run: () => ({ two: 2 }) }),
      node(3, [2, 0, 1], { run: (inputs) => ((seen = inputs), 'three') }),
    ];
    const result = await runGraph({ nodes });
    expect(seen).toEqual([{ two: 2 }, 'zero', 'one']);
    expect(result.outputs).toEqual(['zero', 'one', { two: 2 }, 'three']);
  });

  it('passes attempt 1 and a live signal to the first call', async () => {
    let ctxSeen: { attempt: number; aborted: boolean } | undefined;
    await runGraph({ nodes: [node(0, [], { run: (_, ctx) => (ctxSeen = { attempt: ctx.attempt, aborted: ctx.signal.aborted }) })] });
    expect(ctxSeen).toEqual({ attempt: 1, aborted: false });
  });
});

describe('runGraph parallelism', () => {
  const fanOut = (width: number, provider?: string): TaskNode[] => [
    node(0),
    ...Array.from({ length: width }, (_, k) => node(k + 1, [0], { run: () => sleep(5), ...(provider === undefined ? {} : { provider }) })),
    node(width + 1, Array.from({ length: width }, (_, k) => k + 1)),
  ];

  it('reports max_parallelism equal to the fan-out width when concurrency allows', async () => {
    const { metrics } = await runGraph({ nodes: fanOut(8) });
    expect(metrics.max_parallelism).toBe(8);
    expect(metrics.avg_parallelism).toBeGreaterThan(4);
    expect(metrics.avg_parallelism).toBeLessThanOrEqual(8);
  });

  it('caps max_parallelism at the global concurrency limit', async () => {
    const { metrics, failed } = await runGraph({ nodes: fanOut(8) }, { concurrency: 3 });
    expect(metrics.max_parallelism).toBe(3);
    expect(failed).toEqual([]);
    expect(metrics.operations_executed).toBe(10);
  });

  it('caps a provider at its per-provider limit while other providers run', async () => {
    const nodes = [...fanOut(6, 'openai'), node(8, [], { run: () => sleep(5), provider: 'anthropic' })];
    let inFlight = 0;
    let maxOpenai = 0;
    const wrapped = nodes.map((n) =>
      n.provider !== 'openai'
        ? n
        : { ...n, run: async () => (inFlight++, (maxOpenai = Math.max(maxOpenai, inFlight)), await sleep(5), inFlight--) },
    );
    const { metrics } = await runGraph({ nodes: wrapped }, { perProvider: { openai: 2 } });
    expect(maxOpenai).toBe(2);
    // Two openai calls plus the anthropic one.
    expect(metrics.max_parallelism).toBe(3);
  });

  it('reports avg_parallelism of about 1 for a chain of async nodes', async () => {
    const nodes = Array.from({ length: 5 }, (_, i) => node(i, i === 0 ? [] : [i - 1], { run: () => sleep(3) }));
    const { metrics } = await runGraph({ nodes });
    expect(metrics.max_parallelism).toBe(1);
    expect(metrics.avg_parallelism).toBeCloseTo(1, 5);
  });
});
