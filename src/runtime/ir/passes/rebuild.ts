/**
 * Rebuilding a flow after a pass removed or merged nodes: the survivors get ids 0..n-1 in
 * their order (which stays topological), and refs, `after`, `fallbackFor` and the output
 * are pointed at the new ids.
 *
 * `redirect` maps a removed node to the earlier node that now stands for it (CSE, fusion).
 * A ref to a removed node with no redirect is a bug in the pass and throws; an `after` edge
 * to one is dropped, because it ordered the node after something that no longer runs
 * (DCE removes only pure nodes).
 */
import { mapOpArgs, mapRefs } from '../args.js';
import { cleanAfter } from '../ordering.js';
import type { Arg, IrFlow, IrNode } from '../plan.js';

export function rebuildFlow(flow: IrFlow, kept: readonly IrNode[], redirect: ReadonlyMap<number, number> = new Map()): IrFlow {
  const newId = new Map<number, number>(kept.map((n, i) => [n.id, i]));
  const resolve = (id: number): number | undefined => {
    let target = id;
    for (let hops = 0; !newId.has(target); hops++) {
      const next = redirect.get(target);
      if (next === undefined || hops > kept.length) return undefined;
      target = next;
    }
    return newId.get(target);
  };
  const ref = (id: number): number => {
    const to = resolve(id);
    if (to === undefined) throw new Error(`${flow.name}: a pass removed node %${id} while it was still read`);
    return to;
  };
  const arg = (a: Arg): Arg => mapRefs(a, ref);
  const nodes = kept.map((n, id): IrNode => {
    const op = mapOpArgs(n.op, arg);
    const fallbackFor = n.fallbackFor === undefined ? undefined : ref(n.fallbackFor);
    const after = n.after.map(resolve).filter((a): a is number => a !== undefined);
    const node: IrNode = { id, op, after: cleanAfter(after, { id, op, fallbackFor }), effect: n.effect, label: n.label, pos: n.pos };
    return fallbackFor === undefined ? node : { ...node, fallbackFor };
  });
  // A control node that may return is an effect, so no pass removes it; it may be renumbered.
  const returnsFrom = flow.returnsFrom?.map(ref);
  return { ...flow, nodes, output: flow.output === null ? null : arg(flow.output), ...(returnsFrom === undefined ? {} : { returnsFrom }) };
}
