/**
 * Cycle detection over cross-agent flow calls.
 *
 * apxm expands a flow call into the caller's dataflow graph, so a flow that reaches itself
 * through calls (A.f → B.g → A.f, or A.f → A.f) would never finish expanding. A depth-first
 * search in source order reports each back edge once, at the call that closes the cycle.
 */
import type { DiagnosticBag } from './diagnostics.js';
import type { CallEdge } from './program-index.js';

export function checkCycles(edges: readonly CallEdge[], diags: DiagnosticBag): void {
  const out = new Map<string, CallEdge[]>();
  for (const e of edges) {
    const list = out.get(e.from) ?? [];
    list.push(e);
    out.set(e.from, list);
  }
  const done = new Set<string>();
  const stack: string[] = [];
  const onStack = new Set<string>();

  // Iterative would avoid deep recursion, but the depth is bounded by the number of flows.
  const visit = (node: string): void => {
    stack.push(node);
    onStack.add(node);
    for (const edge of out.get(node) ?? []) {
      if (onStack.has(edge.to)) {
        const path = [...stack.slice(stack.indexOf(edge.to)), edge.to];
        diags.error(edge.span, `cycle in flow calls: ${path.join(' -> ')}`);
      } else if (!done.has(edge.to)) {
        visit(edge.to);
      }
    }
    stack.pop();
    onStack.delete(node);
    done.add(node);
  };
  for (const e of edges) if (!done.has(e.from)) visit(e.from);
}
