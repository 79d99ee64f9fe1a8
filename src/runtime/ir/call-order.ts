/**
 * Walking the flows a flow reaches through calls, callees before callers, on an explicit
 * stack: a chain of calls 10,000 flows deep is a legal program, and every analysis over the
 * call graph (footprints, request counts) must not spend a JavaScript stack frame per level.
 */
import { leavesOf } from './args.js';
import type { IrFlow } from './plan.js';

/** The flows a flow's nodes call (switch cases included), in node order, with repeats. */
export function calleesOf(flow: IrFlow): string[] {
  const out: string[] = [];
  for (const n of flow.nodes) for (const leaf of leavesOf(n.op)) if (leaf.kind === 'call') out.push(leaf.callee);
  return out;
}

/**
 * Calls `visit` for `start` and every flow below it that `isDone` does not already know,
 * callees first (a depth-first post-order in call order). `enter` marks a flow as started
 * before its callees are visited, so a cycle in a hand-edited plan stops at the flow in
 * progress: `isDone` must answer true for it from then on.
 */
export function visitCalleesFirst(
  start: string,
  lookup: (name: string) => IrFlow | undefined,
  isDone: (name: string) => boolean,
  enter: (name: string) => void,
  visit: (name: string, flow: IrFlow | undefined) => void,
): void {
  if (isDone(start)) return;
  const stack: { readonly name: string; readonly flow: IrFlow | undefined; readonly calls: readonly string[]; next: number }[] = [];
  const push = (name: string): void => {
    enter(name);
    const flow = lookup(name);
    stack.push({ name, flow, calls: flow === undefined ? [] : calleesOf(flow), next: 0 });
  };
  push(start);
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const callee = top.calls[top.next++];
    if (callee === undefined) {
      stack.pop();
      visit(top.name, top.flow);
    } else if (!isDone(callee)) {
      push(callee);
    }
  }
}
