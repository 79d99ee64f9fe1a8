/**
 * Ordering-only edges (`after`): what keeps memory effects and prints in source order in a
 * graph that otherwise runs everything whose inputs are ready.
 *
 * Each node has a footprint: the memory stores it reads (`qmem`) and writes (`umem`) and
 * whether it prints. A switch has the union of its cases' footprints; a call node has its
 * callee's, transitively, so at -O0 a call is ordered as a unit and after inlining its
 * nodes are ordered one by one. Given the nodes in source order:
 * - a read or a write of store s runs after the last write of s (read-after-write,
 *   write-after-write);
 * - a write of s runs after every read of s since that last write (write-after-read);
 * - a print runs after the previous print.
 * Stores are keyed by store name alone, not (tier, store): if two agents' entries share a
 * name, ordering them is at worst unnecessary, never missing. An edge that duplicates a data
 * dependency is dropped (the ref already orders it), as is a default's edge to its own
 * switch (a default always waits for its switch to settle).
 */
import { leavesOf } from './args.js';
import { visitCalleesFirst } from './call-order.js';
import type { IrFlow, LeafOp, NodeOp } from './plan.js';
import { dataDeps } from './plan.js';

export interface Footprint {
  readonly reads: ReadonlySet<string>;
  readonly writes: ReadonlySet<string>;
  readonly prints: boolean;
}

export const EMPTY_FOOTPRINT: Footprint = { reads: new Set(), writes: new Set(), prints: false };

/** A callee's footprint by `Agent.flow`; unknown names have none (validation reports them). */
export type CalleeFootprints = (callee: string) => Footprint;

function union(list: readonly Footprint[]): Footprint {
  if (list.length === 1) return list[0]!;
  return {
    reads: new Set(list.flatMap((f) => [...f.reads])),
    writes: new Set(list.flatMap((f) => [...f.writes])),
    prints: list.some((f) => f.prints),
  };
}

function leafFootprint(op: LeafOp, callee: CalleeFootprints): Footprint {
  switch (op.kind) {
    case 'qmem':
      return { reads: new Set([op.store]), writes: new Set(), prints: false };
    case 'umem':
      return { reads: new Set(), writes: new Set([op.store]), prints: false };
    case 'print':
      return { ...EMPTY_FOOTPRINT, prints: true };
    case 'call':
      return callee(op.callee);
    case 'llm':
    case 'fused_llm':
    case 'merge':
    case 'tool':
    case 'list':
      return EMPTY_FOOTPRINT;
    default: {
      const never: never = op;
      return never;
    }
  }
}

export function nodeFootprint(op: NodeOp, callee: CalleeFootprints): Footprint {
  return union(leavesOf(op).map((leaf) => leafFootprint(leaf, callee)));
}

/**
 * Footprints of flows found by `lookup`, memoized; the checker guarantees calls have no cycles.
 * Callees are computed before their callers without recursion (call-order.ts).
 */
export function flowFootprints(lookup: (name: string) => IrFlow | undefined): CalleeFootprints {
  const memo = new Map<string, Footprint>();
  const known = (name: string): Footprint => memo.get(name) ?? EMPTY_FOOTPRINT;
  return (name) => {
    visitCalleesFirst(
      name,
      lookup,
      (n) => memo.has(n),
      // A flow in progress reads as empty: a cycle in a hand-edited plan stops there.
      (n) => memo.set(n, EMPTY_FOOTPRINT),
      (n, flow) => memo.set(n, flow === undefined || flow.nodes.length === 0 ? EMPTY_FOOTPRINT : union(flow.nodes.map((node) => nodeFootprint(node.op, known)))),
    );
    return known(name);
  };
}

export function planFlows(flows: Readonly<Record<string, IrFlow>>): (name: string) => IrFlow | undefined {
  return (name) => (Object.hasOwn(flows, name) ? flows[name] : undefined);
}

/** Sorted, without duplicates, data dependencies, the node itself or a default's own switch. */
export function cleanAfter(after: Iterable<number>, self: { readonly id: number; readonly op: NodeOp; readonly fallbackFor?: number }): number[] {
  const data = new Set(dataDeps(self.op));
  const out = new Set<number>();
  for (const a of after) if (a !== self.id && a !== self.fallbackFor && !data.has(a)) out.add(a);
  return [...out].sort((x, y) => x - y);
}

/** The ordering edges of each node (index = position in `nodes`), before `cleanAfter`. */
export function orderingEdges(nodes: readonly { readonly op: NodeOp }[], callee: CalleeFootprints): number[][] {
  const lastWrite = new Map<string, number>();
  const readsSince = new Map<string, number[]>();
  let lastPrint: number | undefined;
  return nodes.map((node, id) => {
    const fp = nodeFootprint(node.op, callee);
    const after: number[] = [];
    for (const store of new Set([...fp.reads, ...fp.writes])) {
      const w = lastWrite.get(store);
      if (w !== undefined) after.push(w);
    }
    for (const store of fp.writes) after.push(...(readsSince.get(store) ?? []));
    if (fp.prints) {
      if (lastPrint !== undefined) after.push(lastPrint);
      lastPrint = id;
    }
    for (const store of fp.reads) if (!fp.writes.has(store)) readsSince.set(store, [...(readsSince.get(store) ?? []), id]);
    for (const store of fp.writes) {
      lastWrite.set(store, id);
      readsSince.set(store, []);
    }
    return after;
  });
}
