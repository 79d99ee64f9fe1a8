/**
 * Dead-code elimination: drop the nodes whose value nothing needs.
 *
 * Live nodes are found by marking from the roots to a fixpoint (a worklist): the roots are
 * the refs in the flow's output and every `effect` node; a live node makes its data
 * dependencies live. `after` edges do not make a node live: they order a node after another
 * that runs anyway, so an edge to a removed (pure) node is dropped. A switch and its default
 * live and die together: a live switch needs its default to stand in for it, and a live
 * default (an effectful one) needs its switch, which decides whether it runs. A switch
 * without a default is a root: when no case matches it fails the run on purpose, and
 * removing it would turn a failing program into a succeeding one.
 */
import type { IrFlow } from '../plan.js';
import { dataDeps } from '../plan.js';
import { rebuildFlow } from './rebuild.js';

export function dceFlow(flow: IrFlow): IrFlow {
  const live = new Set<number>();
  const defaults = new Map<number, number[]>();
  for (const n of flow.nodes) if (n.fallbackFor !== undefined) defaults.set(n.fallbackFor, [...(defaults.get(n.fallbackFor) ?? []), n.id]);

  const work: number[] = [];
  for (const p of flow.output ?? []) if ('ref' in p) work.push(p.ref);
  for (const n of flow.nodes) if (n.effect || (n.op.kind === 'switch' && !defaults.has(n.id))) work.push(n.id);
  for (let id = work.pop(); id !== undefined; id = work.pop()) {
    const node = flow.nodes[id];
    if (node === undefined || live.has(id)) continue;
    live.add(id);
    work.push(...dataDeps(node.op), ...(defaults.get(id) ?? []));
    if (node.fallbackFor !== undefined) work.push(node.fallbackFor);
  }
  if (live.size === flow.nodes.length) return flow;
  return rebuildFlow(flow, flow.nodes.filter((n) => live.has(n.id)));
}
