/**
 * Ask-chain fusion: a chain of LLM ops where each one's answer is read only by the next
 * becomes one `fused_llm` node, one request whose prompt holds every step (apxm's -O1: a
 * five-ask chain goes from 5 LLM calls to 1).
 *
 * Node a fuses into its reader b when both are LLM ops (`llm` or already `fused_llm`) and:
 * a's only reader is b (not the flow output, not another node, not a switch subject, not an
 * `after` edge); b reads a only in its first step (a later step's `prev` is the step before
 * it, not a); neither is a switch default; a has no `after` edges of its own (conservative:
 * LLM ops never get them from lowering); and a is b's only such candidate. The fused node
 * takes b's place, its steps are a's then b's, and in b's first step every `{ref: a}`
 * becomes `{prev: true}`. Other inputs of every step stay refs, so the fused node waits for
 * all of them. The fused node's label and position are where the chain starts (its first
 * step's flow and statement).
 *
 * Decision: when b joins two fusible LLM branches, neither is fused. Fusing one would
 * serialize it behind the other (the fused node waits for every input) and which one to
 * pick would be arbitrary; apxm fuses chains, not joins.
 */
import type { FusedStep, IrFlow, IrNode } from '../plan.js';
import { dataDeps } from '../plan.js';
import { rebuildFlow } from './rebuild.js';

type LlmNode = IrNode & { readonly op: { readonly kind: 'llm' | 'fused_llm' } };

function isLlm(node: IrNode | undefined): node is LlmNode {
  return node !== undefined && (node.op.kind === 'llm' || node.op.kind === 'fused_llm') && node.fallbackFor === undefined;
}

/** The variable a node's answer was bound to, from its label (`Agent.flow:op->var`). */
export function boundName(label: string): string | undefined {
  return /->([A-Za-z_][A-Za-z0-9_]*)$/.exec(label)?.[1];
}

function stepsOf(node: LlmNode): readonly FusedStep[] {
  if (node.op.kind === 'fused_llm') return node.op.steps;
  const binds = boundName(node.label);
  const step: FusedStep = { op: node.op.op, args: node.op.args };
  return binds === undefined ? [step] : [{ ...step, binds }];
}

function stepLabel(s: FusedStep): string {
  return s.binds === undefined ? s.op : `${s.op}->${s.binds}`;
}

export function fuseFlow(flow: IrFlow): IrFlow {
  const nodes: (IrNode | undefined)[] = [...flow.nodes];
  const readers = new Map<number, Set<number>>();
  const pinned = new Set<number>();
  for (const p of flow.output ?? []) if ('ref' in p) pinned.add(p.ref);
  for (const n of flow.nodes) {
    for (const d of dataDeps(n.op)) readers.set(d, (readers.get(d) ?? new Set()).add(n.id));
    for (const a of n.after) pinned.add(a);
  }
  let fused = 0;

  const fusible = (a: number, b: LlmNode, steps: readonly FusedStep[]): boolean => {
    const node = nodes[a];
    const r = readers.get(a);
    if (!isLlm(node) || node.after.length > 0 || node.effect || pinned.has(a) || r?.size !== 1 || !r.has(b.id)) return false;
    return steps.slice(1).every((s) => s.args.every((arg) => arg.every((p) => !('ref' in p && p.ref === a))));
  };

  for (let id = 0; id < nodes.length; id++) {
    for (;;) {
      const b = nodes[id];
      if (!isLlm(b) || b.effect) break;
      const bSteps = stepsOf(b);
      const candidates = dataDeps(b.op).filter((a) => fusible(a, b, bSteps));
      const a = candidates.length === 1 ? nodes[candidates[0]!] : undefined;
      if (a === undefined || !isLlm(a)) break;
      const [first, ...rest] = bSteps;
      const linked: FusedStep = { ...first!, args: first!.args.map((arg) => arg.map((p) => ('ref' in p && p.ref === a.id ? { prev: true as const } : p))) };
      const steps = [...stepsOf(a), linked, ...rest];
      const prefix = a.label.slice(0, a.label.indexOf(':') + 1);
      nodes[id] = { ...b, op: { kind: 'fused_llm', steps }, label: `${prefix}fused[${steps.map(stepLabel).join(',')}]`, pos: a.pos };
      nodes[a.id] = undefined;
      fused++;
      for (const d of dataDeps(a.op)) readers.get(d)?.delete(a.id);
      for (const d of dataDeps(a.op)) readers.get(d)?.add(id);
    }
  }
  if (fused === 0) return flow;
  return rebuildFlow(flow, nodes.filter((n): n is IrNode => n !== undefined));
}
