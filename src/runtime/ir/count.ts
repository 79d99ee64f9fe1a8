/**
 * Sizes of a plan, for `PassStat`: nodes, and LLM requests one run of the entry makes.
 *
 * Counting LLM requests: an LLM op is 1 and a fused chain is 1 (that is the point of fusing);
 * a call is its callee's count; a switch is the largest count among its cases, since exactly
 * one case runs and an upper bound is the useful number for cost; a switch's default counts
 * 0, since it runs only when the switch fails. Nodes are counted over every flow in the plan,
 * so inlining, which moves callee nodes into the entry, shows what it removed (call nodes
 * and the callee flows themselves).
 */
import { visitCalleesFirst } from './call-order.js';
import { leavesOf } from './args.js';
import type { IrFlow, LeafOp, NodeOp, Plan } from './plan.js';
import { isControl } from './plan.js';

export function nodeCount(plan: Plan | Omit<Plan, 'hash'>): number {
  return Object.values(plan.flows).reduce((sum, f) => sum + f.nodes.length, 0);
}

export function llmRequests(plan: Plan | Omit<Plan, 'hash'>, flowName: string = plan.entry): number {
  const memo = new Map<string, number>();
  const lookup = (name: string): IrFlow | undefined => (Object.hasOwn(plan.flows, name) ? plan.flows[name] : undefined);
  const leafCount = (op: LeafOp): number => {
    switch (op.kind) {
      case 'llm':
      case 'fused_llm':
        return 1;
      case 'call':
        return memo.get(op.callee) ?? 0;
      case 'print':
      case 'merge':
      case 'tool':
      case 'qmem':
      case 'umem':
      case 'list':
        return 0;
      default: {
        const never: never = op;
        return never;
      }
    }
  };
  // A control node counts its largest block: one branch runs, a catch stands in for its try, and
  // a loop's count is per item (how many items there will be is known only at run time).
  const opCount = (op: NodeOp): number => (op.kind === 'switch' || isControl(op) ? Math.max(0, ...leavesOf(op).map(leafCount)) : leafCount(op));
  // Callees first, so a call reads its callee's count from the memo; 0 guards a hand-edited cycle.
  visitCalleesFirst(
    flowName,
    lookup,
    (name) => memo.has(name),
    (name) => memo.set(name, 0),
    (name, flow) => memo.set(name, flow === undefined ? 0 : flow.nodes.reduce((sum, node) => sum + (node.fallbackFor === undefined ? opCount(node.op) : 0), 0)),
  );
  return memo.get(flowName) ?? 0;
}
