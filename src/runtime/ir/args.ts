/**
 * Building and rewriting `Arg`s, and walking every argument of an op.
 *
 * Args are kept normal: adjacent text parts merged and empty text dropped, so `[]` is the
 * empty string. One value then has one shape, which CSE relies on (it compares ops by their
 * canonical JSON) and which keeps inlined and substituted args as small as written ones.
 */
import type { Arg, CallLeaf, CondOp, FusedStep, LeafOp, NodeOp, Part } from './plan.js';
import { controlBlocks, isControl } from './plan.js';

export function normalizeArg(parts: readonly Part[]): Part[] {
  const out: Part[] = [];
  for (const p of parts) {
    if ('text' in p) {
      if (p.text === '') continue;
      const last = out[out.length - 1];
      if (last !== undefined && 'text' in last) {
        out[out.length - 1] = { text: last.text + p.text };
        continue;
      }
    }
    out.push(p);
  }
  return out;
}

/** Replaces each part by zero or more parts, then normalizes. */
export function mapParts(arg: Arg, fn: (part: Part) => readonly Part[]): Arg {
  return normalizeArg(arg.flatMap((p) => fn(p)));
}

/** Points every `ref` through `fn` (renumbering). */
export function mapRefs(arg: Arg, fn: (id: number) => number): Arg {
  return arg.map((p) => ('ref' in p ? { ref: fn(p.ref) } : p));
}

export function mapLeafArgs(op: LeafOp, fn: (arg: Arg) => Arg): LeafOp {
  switch (op.kind) {
    case 'fused_llm':
      return { ...op, steps: op.steps.map((s): FusedStep => ({ ...s, args: s.args.map(fn) })) };
    case 'llm':
    case 'print':
    case 'merge':
    case 'qmem':
    case 'umem':
    case 'call':
    case 'tool':
    case 'list':
      return { ...op, args: op.args.map(fn) };
    default: {
      const never: never = op;
      return never;
    }
  }
}

/** Applies `fn` to every argument of the op: a switch's subject and each case's arguments too. */
export function mapOpArgs(op: NodeOp, fn: (arg: Arg) => Arg): NodeOp {
  const block = (b: CallLeaf): CallLeaf => ({ ...b, args: b.args.map(fn) });
  if (op.kind === 'switch') return { ...op, subject: fn(op.subject), cases: op.cases.map((c) => ({ ...c, op: mapLeafArgs(c.op, fn) })) };
  if (op.kind === 'if') return { ...op, cond: mapCond(op.cond, fn), then: block(op.then), ...(op.else === undefined ? {} : { else: block(op.else) }) };
  if (op.kind === 'loop') return { ...op, items: fn(op.items), body: block(op.body) };
  if (op.kind === 'try') return { ...op, body: block(op.body), catch: block(op.catch) };
  return mapLeafArgs(op, fn);
}

export function mapCond(cond: CondOp, fn: (arg: Arg) => Arg): CondOp {
  if ('of' in cond) return { ...cond, of: cond.of.map((c) => mapCond(c, fn)) };
  return 'b' in cond ? { ...cond, a: fn(cond.a), b: fn(cond.b) } : { ...cond, a: fn(cond.a) };
}

/** The leaf ops a node holds: itself, a switch's cases, or a control node's block calls. */
export function leavesOf(op: NodeOp): readonly LeafOp[] {
  if (op.kind === 'switch') return op.cases.map((c) => c.op);
  return isControl(op) ? controlBlocks(op) : [op];
}

/** Whether `arg` reads node `id`. */
export function argReads(arg: Arg, id: number): boolean {
  return arg.some((p) => 'ref' in p && p.ref === id);
}
