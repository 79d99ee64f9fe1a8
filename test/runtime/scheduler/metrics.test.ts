import { describe, expect, it } from 'vitest';
import { runGraph, warmUpScheduler } from '../../../src/runtime/scheduler/index.js';
import { layeredDeps, node, sleep } from './fixtures.js';

describe('runGraph scheduler metrics', () => {
  it('measures all five overhead phases, each above zero and tiny, on a non-trivial graph', async () => {
    const deps = layeredDeps(2_000, 50, 3);
    const { metrics } = await runGraph({ nodes: deps.map((d, i) => node(i, d, { priority: i % 4, provider: i % 2 === 0 ? 'a' : 'b' })) }, { perProvider: { a: 4 } });
    const b = metrics.overhead_breakdown;
    for (const [field, value] of Object.entries(b)) expect(value, field).toBeGreaterThan(0);
    const sum = b.ready_set_update_us + b.work_stealing_us + b.input_collection_us + b.operation_dispatch_us + b.token_routing_us;
    expect(metrics.per_op_overhead_us).toBeCloseTo(sum, 9);
    expect(metrics.per_op_overhead_us).toBeLessThan(50);
    expect(metrics.operations_executed).toBe(2_000);
    expect(metrics.operations_failed).toBe(0);
  });

  it('keeps node time out of the overhead: 20 ms nodes still cost microseconds of scheduling each', async () => {
    await warmUpScheduler();
    const nodes = Array.from({ length: 6 }, (_, i) => node(i, i < 3 ? [] : [i - 3], { run: () => sleep(20) }));
    const started = performance.now();
    const { metrics } = await runGraph({ nodes });
    expect(performance.now() - started).toBeGreaterThanOrEqual(38);
    // Each op sleeps 20,000 µs: had node time leaked into a phase, the mean would be at least
    // that. The bound leaves room for a loaded machine while still catching a leak.
    expect(metrics.per_op_overhead_us).toBeLessThan(2_000);
    expect(metrics.per_op_overhead_us).toBeGreaterThan(0);
  });

  it('keeps a node’s synchronous work out of operation_dispatch_us', async () => {
    const busy = (): number => {
      const until = performance.now() + 5;
      let spins = 0;
      while (performance.now() < until) spins++;
      return spins;
    };
    const { metrics } = await runGraph({ nodes: [node(0, [], { run: busy }), node(1, [0], { run: busy })] });
    // Each node spins 5 ms (5,000 µs) inside run; none of it may show up as scheduling.
    expect(metrics.overhead_breakdown.operation_dispatch_us).toBeLessThan(500);
    expect(metrics.avg_parallelism).toBeCloseTo(1, 5);
  });
});
