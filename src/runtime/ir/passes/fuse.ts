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
 *
 * Linear time: a chain grows by appending the reader's steps to the chain built so far
 * (never copying it), each chain keeps the refs of its first step and a count of the refs
 * of its later steps (so "b reads a only in its first step" is a lookup), readers are
 * counted once up front (a node absorbed into a chain answers for it through `absorbedBy`),
 * and labels are written once, at the end.
 */
import type { FusedStep, IrFlow, IrNode } from '../plan.js';
import { dataDeps } from '../plan.js';
import { rebuildFlow } from './rebuild.js';

type LlmNode = IrNode & { readonly op: { readonly kind: 'llm' | 'fused_llm' } };

/**
 * Fusion follows apxm's FuseAskOps: chains of `ask` only. `think`, `reason`, `reflect`,
 * `plan` and `verify` carry their own instructions and budgets and keep their own calls.
 */
function isFusible(node: IrNode | undefined): node is LlmNode {
  // A call with its own budget or model keeps it: it is not fused into a shared request.
  return node !== undefined && node.fallbackFor === undefined && (node.op.kind === 'fused_llm' || (node.op.kind === 'llm' && node.op.op === 'ask' && node.op.options === undefined));
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

/** The refs one step reads, each once. */
function stepRefs(step: FusedStep): Set<number> {
  const refs = new Set<number>();
  for (const arg of step.args) for (const p of arg) if ('ref' in p) refs.add(p.ref);
  return refs;
}

/** A chain being built: its steps in order, where it starts, and which nodes its steps read. */
interface Chain {
  readonly steps: FusedStep[];
  /** The node the chain starts at: its label's `Agent.flow:` prefix and its position name the fused node. */
  readonly head: IrNode;
  /** Refs of the first step: the only place a node fusing into this chain may be read. */
  readonly first: ReadonlySet<number>;
  /** Refs of every later step, with how many later steps read each. */
  readonly later: Map<number, number>;
  /** Whether the chain absorbed another node (a lone LLM node is left as it was). */
  fused: boolean;
}

export function fuseFlow(flow: IrFlow): IrFlow {
  const n = flow.nodes.length;
  // Readers are counted once; a node with exactly one reader remembers it. A reader that is
  // later absorbed into a chain is followed to the chain's node through `absorbedBy`.
  const readerCount = new Uint32Array(n);
  const soleReader = new Int32Array(n).fill(-1);
  const pinned = new Uint8Array(n);
  for (const p of flow.output ?? []) if ('ref' in p && p.ref < n) pinned[p.ref] = 1;
  for (const node of flow.nodes) {
    for (const d of dataDeps(node.op)) {
      if (d >= n) continue;
      readerCount[d]!++;
      soleReader[d] = node.id;
    }
    for (const a of node.after) if (a < n) pinned[a] = 1;
  }
  const absorbedBy = new Int32Array(n).fill(-1);
  const chains: (Chain | undefined)[] = new Array<Chain | undefined>(n);

  /** The live node that now stands for `id`, with path compression. */
  const live = (id: number): number => {
    let root = id;
    while (absorbedBy[root]! >= 0) root = absorbedBy[root]!;
    for (let x = id; absorbedBy[x]! >= 0; ) {
      const next = absorbedBy[x]!;
      absorbedBy[x] = root;
      x = next;
    }
    return root;
  };

  const chainOf = (node: LlmNode): Chain => {
    const known = chains[node.id];
    if (known !== undefined) return known;
    const steps = [...stepsOf(node)];
    const later = new Map<number, number>();
    for (let i = 1; i < steps.length; i++) for (const r of stepRefs(steps[i]!)) later.set(r, (later.get(r) ?? 0) + 1);
    const chain: Chain = { steps, head: node, first: stepRefs(steps[0]!), later, fused: false };
    chains[node.id] = chain;
    return chain;
  };

  const fusible = (a: number, b: number): boolean => {
    const node = flow.nodes[a];
    if (!isFusible(node) || absorbedBy[a]! >= 0 || node.after.length > 0 || node.effect || pinned[a] === 1) return false;
    return readerCount[a] === 1 && live(soleReader[a]!) === b;
  };

  for (let id = 0; id < n; id++) {
    const b = flow.nodes[id];
    if (!isFusible(b) || b.effect) continue;
    for (;;) {
      const chain = chainOf(b);
      let candidate = -1;
      let candidates = 0;
      for (const d of chain.first) {
        if (!chain.later.has(d) && d < n && fusible(d, id)) {
          candidate = d;
          candidates++;
        }
      }
      if (candidates !== 1) break;
      const a = flow.nodes[candidate] as LlmNode;
      const into = chainOf(a);
      // a's chain grows by b's steps: b's first step reads a as `prev`, its refs and those
      // of b's later steps become later refs of the grown chain.
      const [first, ...rest] = chain.steps;
      const linked: FusedStep = { ...first!, args: first!.args.map((arg) => arg.map((p) => ('ref' in p && p.ref === candidate ? { prev: true as const } : p))) };
      into.steps.push(linked, ...rest);
      for (const r of stepRefs(linked)) into.later.set(r, (into.later.get(r) ?? 0) + 1);
      for (const [r, count] of chain.later) into.later.set(r, (into.later.get(r) ?? 0) + count);
      into.fused = true;
      chains[id] = into;
      chains[candidate] = undefined;
      absorbedBy[candidate] = id;
    }
  }

  let fusedAny = false;
  const kept: IrNode[] = [];
  for (const node of flow.nodes) {
    if (absorbedBy[node.id]! >= 0) continue;
    const chain = chains[node.id];
    if (chain === undefined || !chain.fused) {
      kept.push(node);
      continue;
    }
    fusedAny = true;
    const prefix = chain.head.label.slice(0, chain.head.label.indexOf(':') + 1);
    const label = `${prefix}fused[${chain.steps.map(stepLabel).join(',')}]`;
    kept.push({ ...node, op: { kind: 'fused_llm', steps: chain.steps }, label, pos: chain.head.pos });
  }
  return fusedAny ? rebuildFlow(flow, kept) : flow;
}
