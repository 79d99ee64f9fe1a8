/**
 * Runs small no-op graphs once, so V8 compiles the scheduler's code before a measured run.
 *
 * The first graph a process runs pays for V8 parsing and compiling the scheduler lazily:
 * 100–300 µs per operation on a five-node workflow, against 10–30 µs once warm. That is a
 * cost of starting the process, not of scheduling; `flowmeter run` warms up first (a few
 * milliseconds) so the `--emit-metrics` overhead fields measure the scheduling of the
 * workflow. The warm-up runs on its own clock and is counted in no field.
 */
import type { TaskNode } from './graph.js';
import { DEFAULT_CIRCUIT_BREAKER } from './circuit-breaker.js';
import { SchedulerClock } from './metrics.js';
import { DEFAULT_RETRY } from './retry.js';
import { runGraph } from './scheduler.js';

const ROUNDS = 20;
const WIDTH = 8;
const LAYERS = 6;

function warmGraph(): TaskNode[] {
  const nodes: TaskNode[] = [];
  for (let layer = 0; layer < LAYERS; layer++) {
    for (let k = 0; k < WIDTH; k++) {
      const id = nodes.length;
      const deps = layer === 0 ? [] : [id - WIDTH, (layer - 1) * WIDTH + ((k + 1) % WIDTH)];
      // Half settle through an async function, as LLM and tool nodes do; half return at
      // once. Values are strings, as workflow values are, so V8 sees the same shapes.
      const run = k % 2 === 0 ? async (inputs: readonly unknown[]) => `w${await Promise.resolve(inputs.length)}` : (inputs: readonly unknown[]) => `w${inputs.length}`;
      nodes.push({ id, name: `warm${id}`, deps, ...(k % 4 === 0 ? { provider: 'warm' } : {}), run });
    }
  }
  return nodes;
}

/**
 * Options that take the same code paths as a workflow run (circuit breaker, retry policy,
 * a shared clock, a per-provider limit), so V8's type feedback matches what it will see.
 */
export async function warmUpScheduler(): Promise<void> {
  const nodes = warmGraph();
  const controller = new AbortController();
  for (let i = 0; i < ROUNDS; i++) {
    await runGraph(
      { nodes },
      {
        concurrency: 6,
        perProvider: { warm: 2 },
        clock: new SchedulerClock(),
        signal: controller.signal,
        circuitBreaker: DEFAULT_CIRCUIT_BREAKER,
        retry: DEFAULT_RETRY,
        onRetry: () => undefined,
      },
    );
  }
}
