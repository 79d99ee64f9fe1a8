import type { TaskContext, TaskNode } from '../../../src/runtime/scheduler/index.js';

export type Run = (inputs: readonly unknown[], ctx: TaskContext) => unknown;

/** A node with defaults: `run` returns its name. */
export function node(id: number, deps: readonly number[] = [], extra: Partial<Omit<TaskNode, 'id' | 'deps'>> = {}): TaskNode {
  return { id, name: extra.name ?? `n${id}`, deps, run: extra.run ?? (() => `n${id}`), ...extra };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves only when the signal aborts (then rejects with its reason), like a fetch that honours it. */
export function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true }));
}

/** A deterministic PRNG (mulberry32) for random DAG shapes. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Layers of `width` nodes; each node after the first layer depends on 1-3 random nodes of the layer before. */
export function layeredDeps(n: number, width: number, seed: number): number[][] {
  const random = prng(seed);
  const deps: number[][] = [];
  for (let i = 0; i < n; i++) {
    const layer = Math.floor(i / width);
    if (layer === 0) {
      deps.push([]);
      continue;
    }
    const prevStart = (layer - 1) * width;
    const picks = new Set<number>();
    const k = 1 + Math.floor(random() * 3);
    for (let j = 0; j < k; j++) picks.add(prevStart + Math.floor(random() * width));
    deps.push([...picks]);
  }
  return deps;
}
