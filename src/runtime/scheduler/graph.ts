/**
 * The graph the scheduler runs, independent of the AIS compiler: plain nodes with numeric
 * ids and ordered dependencies. `compileGraph` validates it and flattens the edges into
 * typed arrays (CSR: consumers of node i are `consumers[consumerStart[i] .. consumerStart[i+1])`),
 * so a run walks integers, not objects.
 */
import { GraphValidationError } from './errors.js';

export interface TaskContext {
  /** Aborted when the run times out or is cancelled; pass it to fetch / the provider SDK. */
  readonly signal: AbortSignal;
  /** 1 for the first call, 2 for the first retry, ... */
  readonly attempt: number;
}

export interface TaskNode {
  readonly id: number;
  readonly name: string;
  /** Node ids whose outputs are this node's inputs, in order. */
  readonly deps: readonly number[];
  /** Concurrency (`perProvider`) and circuit-breaker key. */
  readonly provider?: string;
  /** Among ready nodes, higher runs first; ties go to the lower id. Default 0. */
  readonly priority?: number;
  /**
   * Makes this node a `switch` default for node `fallbackFor`: it runs only if that node ran
   * and failed, and its output then takes the failed node's place in the failed node's
   * consumers. If the target succeeds this node is skipped; if the target never ran because
   * one of its inputs failed, this node fails with it.
   */
  readonly fallbackFor?: number;
  /**
   * The node runs a nested graph that shares this run's `clock` (a cross-agent flow call at
   * -O0): it is neither an operation nor in flight itself; the nested graph's nodes are.
   */
  readonly container?: boolean;
  run(inputs: readonly unknown[], ctx: TaskContext): unknown;
}

/** Node ids are 0..n-1 and `nodes[i].id === i`. */
export interface TaskGraph {
  readonly nodes: readonly TaskNode[];
}

export interface CompiledGraph {
  readonly n: number;
  readonly nodes: readonly TaskNode[];
  /** Dependencies plus one if the node is a fallback (it also waits for its target to settle). */
  readonly pendingInit: Int32Array;
  /** Node i's input slots are `slots[inputStart[i] .. inputStart[i+1])`. */
  readonly inputStart: Int32Array;
  readonly consumerStart: Int32Array;
  readonly consumers: Int32Array;
  /** The slot in the flat input array that each consumer edge writes. */
  readonly consumerSlot: Int32Array;
  /** The fallback of node i, or -1. */
  readonly fallbackOf: Int32Array;
  /** The node that node i is a fallback for, or -1. */
  readonly fallbackFor: Int32Array;
  /** Index into `providers`, or -1. */
  readonly providerOf: Int32Array;
  readonly providers: readonly string[];
  readonly priority: Float64Array;
  /** 1 where `TaskNode.container` is set. */
  readonly container: Uint8Array;
}

function fail(message: string): never {
  throw new GraphValidationError(`invalid task graph: ${message}`);
}

/** Validates (ids, deps in range, fallbacks, acyclic) and flattens a graph. Throws GraphValidationError. */
export function compileGraph(graph: TaskGraph): CompiledGraph {
  const nodes = graph.nodes;
  const n = nodes.length;
  const pendingInit = new Int32Array(n);
  const inputStart = new Int32Array(n + 1);
  const consumerCount = new Int32Array(n + 1);
  const fallbackOf = new Int32Array(n).fill(-1);
  const fallbackFor = new Int32Array(n).fill(-1);
  const providerOf = new Int32Array(n).fill(-1);
  const priority = new Float64Array(n);
  const container = new Uint8Array(n);
  const providerIndex = new Map<string, number>();
  let edges = 0;
  for (let i = 0; i < n; i++) {
    const node = nodes[i]!;
    if (node.id !== i) fail(`nodes[${i}] has id ${String(node.id)}; ids must be 0..n-1 in order`);
    if (typeof node.run !== 'function') fail(`node ${i} (${node.name}) has no run function`);
    const deps = node.deps;
    for (let k = 0; k < deps.length; k++) {
      const d = deps[k]!;
      if (!Number.isInteger(d) || d < 0 || d >= n) fail(`node ${i} (${node.name}) depends on ${String(d)}, which is not a node id (0..${n - 1})`);
      if (d === i) fail(`node ${i} (${node.name}) depends on itself`);
      consumerCount[d]! += 1;
    }
    inputStart[i] = edges;
    edges += deps.length;
    pendingInit[i] = deps.length;
    if (node.priority !== undefined) {
      if (!Number.isFinite(node.priority)) fail(`node ${i} (${node.name}) has priority ${node.priority}; use a finite number`);
      priority[i] = node.priority;
    }
    if (node.container === true) container[i] = 1;
    if (node.provider !== undefined) {
      let p = providerIndex.get(node.provider);
      if (p === undefined) providerIndex.set(node.provider, (p = providerIndex.size));
      providerOf[i] = p;
    }
    const target = node.fallbackFor;
    if (target !== undefined) {
      if (!Number.isInteger(target) || target < 0 || target >= n || target === i) fail(`node ${i} (${node.name}) is a fallback for ${String(target)}, which is not another node id`);
      if (fallbackOf[target] !== -1) fail(`node ${target} has two fallbacks (${fallbackOf[target]} and ${i}); a switch has one default`);
      fallbackOf[target] = i;
      fallbackFor[i] = target;
      pendingInit[i]! += 1;
    }
  }
  inputStart[n] = edges;
  // Prefix sums turn per-node consumer counts into CSR offsets.
  const consumerStart = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) consumerStart[i + 1] = consumerStart[i]! + consumerCount[i]!;
  const consumers = new Int32Array(edges);
  const consumerSlot = new Int32Array(edges);
  const cursor = consumerStart.slice(0, n);
  for (let i = 0; i < n; i++) {
    const deps = nodes[i]!.deps;
    for (let k = 0; k < deps.length; k++) {
      const d = deps[k]!;
      const at = cursor[d]!;
      cursor[d] = at + 1;
      consumers[at] = i;
      consumerSlot[at] = inputStart[i]! + k;
    }
  }
  for (let f = 0; f < n; f++) if (fallbackFor[f] !== -1) assertNotDownstream(f, fallbackFor[f]!, consumerStart, consumers, nodes);
  assertAcyclic(n, pendingInit, consumerStart, consumers, fallbackOf, nodes);
  return { n, nodes, pendingInit, inputStart, consumerStart, consumers, consumerSlot, fallbackOf, fallbackFor, providerOf, providers: [...providerIndex.keys()], priority, container };
}

/**
 * A switch default runs because its target produced no output, so it cannot consume that
 * output, directly or through other nodes (it would wait forever for its own input).
 */
function assertNotDownstream(fallback: number, target: number, consumerStart: Int32Array, consumers: Int32Array, nodes: readonly TaskNode[]): void {
  const seen = new Set<number>([target]);
  const stack = [target];
  for (let y = stack.pop(); y !== undefined; y = stack.pop()) {
    for (let e = consumerStart[y]!; e < consumerStart[y + 1]!; e++) {
      const c = consumers[e]!;
      if (c === fallback) fail(`node ${fallback} (${nodes[fallback]!.name}) is the fallback for node ${target} but depends on its output; a fallback runs when that node has no output`);
      if (!seen.has(c)) {
        seen.add(c);
        stack.push(c);
      }
    }
  }
}

/** Kahn's algorithm over dependency and fallback edges; names one node on a cycle if any. */
function assertAcyclic(n: number, pendingInit: Int32Array, consumerStart: Int32Array, consumers: Int32Array, fallbackOf: Int32Array, nodes: readonly TaskNode[]): void {
  const pending = pendingInit.slice();
  const stack = new Int32Array(n);
  let top = 0;
  for (let i = 0; i < n; i++) if (pending[i] === 0) stack[top++] = i;
  let seen = 0;
  const release = (c: number): void => {
    pending[c]! -= 1;
    if (pending[c] === 0) stack[top++] = c;
  };
  while (top > 0) {
    const i = stack[--top]!;
    seen++;
    for (let e = consumerStart[i]!; e < consumerStart[i + 1]!; e++) release(consumers[e]!);
    if (fallbackOf[i] !== -1) release(fallbackOf[i]!);
  }
  if (seen === n) return;
  // Every unreleased node has an unreleased predecessor; walking back n steps lands on a cycle.
  const back = (i: number): number => {
    const node = nodes[i]!;
    const d = node.deps.find((x) => pending[x]! > 0);
    return d ?? node.fallbackFor ?? i;
  };
  let at = pending.findIndex((p) => p > 0);
  for (let k = 0; k < n; k++) at = back(at);
  const cycle = [at];
  for (let i = back(at); i !== at && cycle.length <= n; i = back(i)) cycle.push(i);
  const names = cycle.reverse().map((i) => `${i} (${nodes[i]!.name})`);
  fail(`the graph has a cycle: ${names.join(' -> ')} -> ${names[0] ?? ''}`);
}
