/**
 * Common-subexpression elimination: a node that repeats an earlier one is removed and its
 * readers read the earlier node.
 *
 * Two nodes are the same when their ops are equal as canonical JSON, after the refs of both
 * are pointed at the nodes that survive, and their `after` edges are equal too (a read of a
 * memory store ordered after a different write is a different read).
 *
 * Decisions:
 * - LLM ops count as pure: the same prompt to the same model is one request at -O1. A
 *   sampled model could answer twice differently; a workflow that wants two samples should
 *   say so in the prompt. apxm's -O1 makes the same trade.
 * - Never merged: effect nodes (a print twice prints twice), switch nodes, a switch's
 *   default, and a node that has a default; their identity is part of the routing.
 */
import { mapOpArgs, mapRefs } from '../args.js';
import { canonicalJson } from '../plan-hash.js';
import type { IrFlow, IrNode } from '../plan.js';
import { rebuildFlow } from './rebuild.js';

export function cseFlow(flow: IrFlow): IrFlow {
  const hasDefault = new Set(flow.nodes.flatMap((n) => (n.fallbackFor === undefined ? [] : [n.fallbackFor])));
  const redirect = new Map<number, number>();
  const seen = new Map<string, number>();
  const kept: IrNode[] = [];
  const to = (id: number): number => redirect.get(id) ?? id;
  for (const node of flow.nodes) {
    const op = mapOpArgs(node.op, (a) => mapRefs(a, to));
    const after = [...new Set(node.after.map(to))].sort((a, b) => a - b);
    const mergeable = !node.effect && op.kind !== 'switch' && node.fallbackFor === undefined && !hasDefault.has(node.id);
    if (mergeable) {
      const key = canonicalJson({ op, after });
      const earlier = seen.get(key);
      if (earlier !== undefined) {
        redirect.set(node.id, earlier);
        continue;
      }
      seen.set(key, node.id);
    }
    kept.push({ ...node, op, after });
  }
  return redirect.size === 0 ? flow : rebuildFlow(flow, kept, redirect);
}
