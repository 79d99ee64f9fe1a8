/**
 * Inlining: every call node is replaced by its callee's nodes, so the entry is one graph the
 * scheduler can overlap freely (apxm expands flow calls into the caller's DAG the same way).
 *
 * The callee's nodes are spliced in at the call's position (renumbered), its parameters are
 * replaced by the call's argument parts, and a ref to the call node is replaced by the
 * callee's return value with the same substitution ('' when the callee has no return). A
 * callee's own calls are spliced the same way, in place.
 *
 * Decisions:
 * - A call inside a switch case, or a switch's default that is a call, is not inlined: it
 *   runs only when chosen, and a case is one leaf op. Its callee stays in `flows` (itself
 *   inlined); every other flow is dropped, so a program without such calls ends with the
 *   entry alone.
 * - `after` edges between surviving nodes are remapped; the edges around a call node, which
 *   ordered the callee as a unit, are recomputed from the spliced sequence (ordering.ts) so
 *   each inlined memory op and print is ordered on its own: the same order, finer grained.
 * - A flow that would pass `MAX_INLINED_NODES` nodes is a `CompileLimitError` at the call
 *   that takes it there.
 *
 * The expansion runs on an explicit stack of frames, one per call being spliced, writing
 * straight into the flow's output: a chain of calls 10,000 flows deep needs no JavaScript
 * stack and no copy of each callee's expansion.
 */
import { leavesOf, mapOpArgs, mapParts } from '../args.js';
import { CompileLimitError, MAX_INLINED_NODES } from '../limits.js';
import { cleanAfter, flowFootprints, orderingEdges, planFlows } from '../ordering.js';
import type { CalleeFootprints } from '../ordering.js';
import { visitCalleesFirst } from '../call-order.js';
import type { IrFlow, IrNode, Part, Plan } from '../plan.js';

type Flows = Readonly<Record<string, IrFlow>>;

/**
 * A call is inlined unless it is a switch's default, or its callee may return from inside a
 * block (`returnsFrom`): that value is known only at run time, so the call stays a call.
 */
function inlinable(lookup: (name: string) => IrFlow | undefined): (node: IrNode) => node is IrNode & { op: { kind: 'call' } } {
  return (node): node is IrNode & { op: { kind: 'call' } } => node.op.kind === 'call' && node.fallbackFor === undefined && lookup(node.op.callee)?.returnsFrom === undefined;
}

/** One flow being spliced: where it is in its nodes, and how its refs and params map to the output. */
interface Frame {
  readonly flow: IrFlow;
  next: number;
  /** What a ref to each node of `flow` becomes in the output. */
  readonly valueOf: Map<number, readonly Part[]>;
  /** Output id of each node of `flow` that was copied (not spliced). */
  readonly newId: Map<number, number>;
  /** A part of `flow` in output terms. */
  readonly map: (p: Part) => readonly Part[];
  /** The call node (in the parent frame) this frame splices. */
  readonly call?: IrNode;
}

function expandFlow(name: string, lookup: (name: string) => IrFlow | undefined, footprints: CalleeFootprints, sizes: Map<string, number>): IrFlow {
  const root = lookup(name);
  if (root === undefined) throw new Error(`inline: no flow "${name}"`);
  const isInlinable = inlinable(lookup);
  checkInlinedSize(root, lookup, sizes);
  const out: IrNode[] = [];
  const onPath = new Set<string>([name]);
  let spliced = false;

  const frame = (flow: IrFlow, map: (valueOf: Map<number, readonly Part[]>) => (p: Part) => readonly Part[], call?: IrNode): Frame => {
    const valueOf = new Map<number, readonly Part[]>();
    return { flow, next: 0, valueOf, newId: new Map(), map: map(valueOf), ...(call !== undefined ? { call } : {}) };
  };
  const refsOnly = (valueOf: Map<number, readonly Part[]>) => (p: Part): readonly Part[] => ('ref' in p ? (valueOf.get(p.ref) ?? [p]) : [p]);
  const rootFrame = frame(root, refsOnly);
  const stack: Frame[] = [rootFrame];

  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const node = top.flow.nodes[top.next++];
    if (node === undefined) {
      // The flow is spliced: a ref to its call node now reads its return value.
      stack.pop();
      onPath.delete(top.flow.name);
      const parent = stack[stack.length - 1];
      if (parent !== undefined && top.call !== undefined) {
        parent.valueOf.set(top.call.id, top.flow.output === null ? [] : mapParts(top.flow.output, top.map));
      }
      continue;
    }
    if (isInlinable(node)) {
      const callee = lookup(node.op.callee);
      if (callee === undefined) throw new Error(`inline: no flow "${node.op.callee}"`);
      if (onPath.has(callee.name)) {
        throw new Error(`inline: cycle in flow calls: ${[...stack.map((f) => f.flow.name), callee.name].join(' -> ')}`);
      }
      onPath.add(callee.name);
      spliced = true;
      const args = node.op.args.map((a) => mapParts(a, top.map));
      const params = callee.params;
      const substitute = (valueOf: Map<number, readonly Part[]>) => (p: Part): readonly Part[] => {
        if ('ref' in p) return valueOf.get(p.ref) ?? [p];
        if ('param' in p) {
          const i = params.indexOf(p.param);
          return i >= 0 ? (args[i] ?? []) : [p];
        }
        return [p];
      };
      stack.push(frame(callee, substitute, node));
      continue;
    }
    const id = out.length;
    const after = node.after.flatMap((a) => top.newId.get(a) ?? []);
    const moved: IrNode = { ...node, id, op: mapOpArgs(node.op, (a) => mapParts(a, top.map)), after };
    const fallbackFor = node.fallbackFor === undefined ? undefined : top.newId.get(node.fallbackFor);
    out.push(fallbackFor === undefined ? moved : { ...moved, fallbackFor });
    top.valueOf.set(node.id, [{ ref: id }]);
    top.newId.set(node.id, id);
  }

  const ordering = spliced ? orderingEdges(out, footprints) : undefined;
  const nodes = ordering === undefined ? out : out.map((n) => ({ ...n, after: cleanAfter([...n.after, ...(ordering[n.id] ?? [])], n) }));
  const returnsFrom = root.returnsFrom?.map((id) => rootFrame.newId.get(id) ?? id);
  return { ...root, nodes, output: root.output === null ? null : mapParts(root.output, rootFrame.map), ...(returnsFrom === undefined ? {} : { returnsFrom }) };
}

/**
 * Throws `CompileLimitError` when `root` would have more than `MAX_INLINED_NODES` nodes
 * after inlining, before any is copied: sizes are summed callees first, so a call graph
 * that doubles at every level is refused at once, at the call in `root` that crosses the
 * limit.
 */
function checkInlinedSize(root: IrFlow, lookup: (name: string) => IrFlow | undefined, size: Map<string, number>): void {
  const isInlinable = inlinable(lookup);
  const sizeOf = (flow: IrFlow): number => flow.nodes.reduce((sum, n) => sum + (isInlinable(n) ? (size.get(n.op.callee) ?? 0) : 1), 0);
  for (const n of root.nodes) {
    if (isInlinable(n)) visitCalleesFirst(n.op.callee, lookup, (c) => size.has(c), (c) => size.set(c, 0), (c, flow) => size.set(c, flow === undefined ? 0 : sizeOf(flow)));
  }
  let total = 0;
  for (const n of root.nodes) {
    total += isInlinable(n) ? (size.get(n.op.callee) ?? 0) : 1;
    if (total <= MAX_INLINED_NODES) continue;
    const count = sizeOf(root);
    const shown = count >= 1e15 ? 'more than 10^15' : count.toLocaleString('en-US');
    const what = isInlinable(n) ? `inlining ${n.op.callee} here gives` : 'inlining gives';
    throw new CompileLimitError(
      `${what} ${root.name} ${shown} nodes, over the limit of ${MAX_INLINED_NODES.toLocaleString('en-US')} (a flow's nodes are copied at every call): call shared flows from fewer places, or compile with -O0`,
      n.pos,
    );
  }
}

export function inlineFlows(plan: Plan): Flows {
  const lookup = planFlows(plan.flows);
  const footprints = flowFootprints(lookup);
  /** Each flow's node count after inlining, shared by every flow that is kept. */
  const sizes = new Map<string, number>();
  const flows: Record<string, IrFlow> = {};
  const pending = [plan.entry];
  for (let name = pending.shift(); name !== undefined; name = pending.shift()) {
    if (Object.hasOwn(flows, name)) continue;
    const flow = expandFlow(name, lookup, footprints, sizes);
    flows[name] = flow;
    for (const n of flow.nodes) {
      for (const leaf of leavesOf(n.op)) if (leaf.kind === 'call') pending.push(leaf.callee);
    }
  }
  return flows;
}
