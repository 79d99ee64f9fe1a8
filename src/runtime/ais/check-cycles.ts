/**
 * Cycle detection over cross-agent flow calls.
 *
 * apxm expands a flow call into the caller's dataflow graph, so a flow that reaches itself
 * through calls (A.f → B.g → A.f, or A.f → A.f) would never finish expanding. A depth-first
 * search in source order reports each back edge once, at the call that closes the cycle.
 *
 * The search keeps its own stack rather than recursing: a chain of calls 10,000 agents deep
 * is a legal program, and must not overflow the JavaScript stack.
 */
import type { DiagnosticBag } from './diagnostics.js';
import type { CallEdge } from './program-index.js';

interface Frame {
  readonly node: string;
  readonly edges: readonly CallEdge[];
  next: number;
}

export function checkCycles(edges: readonly CallEdge[], diags: DiagnosticBag): void {
  const out = new Map<string, CallEdge[]>();
  for (const e of edges) {
    const list = out.get(e.from) ?? [];
    list.push(e);
    out.set(e.from, list);
  }
  const done = new Set<string>();
  /** Position of each flow on the current path, for the cycle's text. */
  const onStack = new Map<string, number>();
  const stack: Frame[] = [];

  const enter = (node: string): void => {
    onStack.set(node, stack.length);
    stack.push({ node, edges: out.get(node) ?? [], next: 0 });
  };
  for (const e of edges) {
    if (done.has(e.from)) continue;
    enter(e.from);
    while (stack.length > 0) {
      const frame = stack[stack.length - 1]!;
      const edge = frame.edges[frame.next++];
      if (edge === undefined) {
        stack.pop();
        onStack.delete(frame.node);
        done.add(frame.node);
        continue;
      }
      const at = onStack.get(edge.to);
      if (at !== undefined) {
        const path = [...stack.slice(at).map((f) => f.node), edge.to];
        diags.error(edge.span, `cycle in flow calls: ${showPath(path)}`);
      } else if (!done.has(edge.to)) {
        enter(edge.to);
      }
    }
  }
}

/** Flows shown at each end of a long cycle; the middle is counted. */
const PATH_ENDS = 4;

function showPath(path: readonly string[]): string {
  if (path.length <= 2 * PATH_ENDS + 1) return path.join(' -> ');
  const hidden = path.length - 2 * PATH_ENDS;
  return [...path.slice(0, PATH_ENDS), `... ${hidden.toLocaleString('en-US')} more ...`, ...path.slice(-PATH_ENDS)].join(' -> ');
}
