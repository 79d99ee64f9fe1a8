/**
 * Inlining: every call node is replaced by its callee's nodes, so the entry is one graph the
 * scheduler can overlap freely (apxm expands flow calls into the caller's DAG the same way).
 *
 * The callee is inlined first (recursively; the checker guarantees no cycles), its nodes are
 * spliced in at the call's position and renumbered, its parameters are replaced by the call's
 * argument parts, and a ref to the call node is replaced by the callee's return value with
 * the same substitution ('' when the callee has no return).
 *
 * Decisions:
 * - A call inside a switch case, or a switch's default that is a call, is not inlined: it
 *   runs only when chosen, and a case is one leaf op. Its callee stays in `flows` (itself
 *   inlined); every other flow is dropped, so a program without such calls ends with the
 *   entry alone.
 * - `after` edges between surviving nodes are remapped; the edges around the call node,
 *   which ordered the callee as a unit, are recomputed from the spliced sequence (ordering.ts)
 *   so each inlined memory op and print is ordered on its own: the same order, finer grained.
 */
import { mapOpArgs, mapParts } from '../args.js';
import { cleanAfter, flowFootprints, orderingEdges, planFlows } from '../ordering.js';
import type { Arg, IrFlow, IrNode, Part, Plan } from '../plan.js';

type Flows = Readonly<Record<string, IrFlow>>;

function isInlinable(node: IrNode): node is IrNode & { op: { kind: 'call' } } {
  return node.op.kind === 'call' && node.fallbackFor === undefined;
}

export function inlineFlows(plan: Plan): Flows {
  const lookup = planFlows(plan.flows);
  const footprints = flowFootprints(lookup);
  const expanded = new Map<string, IrFlow>();

  const expand = (name: string, stack: readonly string[]): IrFlow => {
    const done = expanded.get(name);
    if (done !== undefined) return done;
    const flow = lookup(name);
    if (flow === undefined) throw new Error(`inline: no flow "${name}"`);
    if (stack.includes(name)) throw new Error(`inline: cycle in flow calls: ${[...stack, name].join(' -> ')}`);
    const out: IrNode[] = [];
    /** What a ref to each node of `flow` becomes. */
    const valueOf = new Map<number, readonly Part[]>();
    const spliced = new Set<number>();
    const newId = new Map<number, number>();
    const caller = (p: Part): readonly Part[] => ('ref' in p ? (valueOf.get(p.ref) ?? [p]) : [p]);

    for (const node of flow.nodes) {
      if (isInlinable(node)) {
        const callee = expand(node.op.callee, [...stack, name]);
        const args = node.op.args.map((a) => mapParts(a, caller));
        const base = out.length;
        const sub = (p: Part): readonly Part[] => {
          if ('ref' in p) return [{ ref: p.ref + base }];
          if ('param' in p) {
            const i = callee.params.indexOf(p.param);
            return i >= 0 ? (args[i] ?? []) : [p];
          }
          return [p];
        };
        const subArg = (a: Arg): Arg => mapParts(a, sub);
        for (const c of callee.nodes) {
          const moved: IrNode = { ...c, id: c.id + base, op: mapOpArgs(c.op, subArg), after: c.after.map((a) => a + base) };
          out.push(c.fallbackFor === undefined ? moved : { ...moved, fallbackFor: c.fallbackFor + base });
        }
        valueOf.set(node.id, callee.output === null ? [] : subArg(callee.output));
        spliced.add(node.id);
      } else {
        const id = out.length;
        const after = node.after.flatMap((a) => newId.get(a) ?? []);
        const moved: IrNode = { ...node, id, op: mapOpArgs(node.op, (a) => mapParts(a, caller)), after };
        const fallbackFor = node.fallbackFor === undefined ? undefined : newId.get(node.fallbackFor);
        out.push(fallbackFor === undefined ? moved : { ...moved, fallbackFor });
        valueOf.set(node.id, [{ ref: id }]);
        newId.set(node.id, id);
      }
    }

    const ordering = spliced.size === 0 ? undefined : orderingEdges(out, footprints);
    const nodes = ordering === undefined ? out : out.map((n) => ({ ...n, after: cleanAfter([...n.after, ...(ordering[n.id] ?? [])], n) }));
    const result: IrFlow = { ...flow, nodes, output: flow.output === null ? null : mapParts(flow.output, caller) };
    expanded.set(name, result);
    return result;
  };

  const flows: Record<string, IrFlow> = {};
  const pending = [plan.entry];
  for (let name = pending.shift(); name !== undefined; name = pending.shift()) {
    if (Object.hasOwn(flows, name)) continue;
    const flow = expand(name, []);
    flows[name] = flow;
    for (const n of flow.nodes) {
      for (const leaf of n.op.kind === 'switch' ? n.op.cases.map((c) => c.op) : [n.op]) if (leaf.kind === 'call') pending.push(leaf.callee);
    }
  }
  return flows;
}
