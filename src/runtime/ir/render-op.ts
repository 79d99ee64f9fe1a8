/**
 * One-line text of an op and its arguments, shared by every `compile --emit` format.
 *
 * `%3` is node 3's value, `$name` a flow parameter, `prev` the previous fused step's answer,
 * string literals are JSON-quoted (so newlines and quotes stay on one line). Graph formats
 * pass `maxText` to shorten long templates; the `ir` format shows them whole. Flows are shown
 * entry first, then by name.
 */
import type { Arg, CondOp, IrFlow, LeafOp, NodeOp, Part, Plan } from './plan.js';

export interface RenderOptions {
  /** Longest literal shown before it is cut with an ellipsis; default no limit. */
  readonly maxText?: number;
}

function renderPart(p: Part, o: RenderOptions): string {
  if ('text' in p) {
    const text = o.maxText !== undefined && p.text.length > o.maxText ? `${p.text.slice(0, o.maxText)}…` : p.text;
    return JSON.stringify(text);
  }
  if ('ref' in p) return `%${p.ref}`;
  if ('param' in p) return `$${p.param}`;
  return 'prev';
}

export function renderArg(arg: Arg, o: RenderOptions = {}): string {
  return arg.length === 0 ? '""' : arg.map((p) => renderPart(p, o)).join(' + ');
}

function list(args: readonly Arg[], o: RenderOptions): string {
  return args.map((a) => renderArg(a, o)).join(', ');
}

export function renderLeaf(op: LeafOp, o: RenderOptions = {}): string {
  switch (op.kind) {
    case 'llm': {
      const opts = op.options === undefined ? '' : ` {${[op.options.max_tokens === undefined ? '' : `max_tokens ${op.options.max_tokens}`, op.options.model === undefined ? '' : `model ${op.options.model}`].filter((x) => x !== '').join(', ')}}`;
      return `${op.op} ${list(op.args, o)}${opts}`;
    }
    case 'fused_llm':
      return `fused_llm [${op.steps.map((s) => `${s.op} ${list(s.args, o)}${s.binds === undefined ? '' : ` -> ${s.binds}`}`).join('; ')}]`;
    case 'print':
    case 'merge':
      return `${op.kind} ${list(op.args, o)}`;
    case 'tool':
      if (op.via === 'inv') return `inv ${list(op.args, o)}`;
      return `tool ${op.tool}(${op.args.map((a, i) => `${op.params[i] ?? `arg${i}`}=${renderArg(a, o)}`).join(', ')})`;
    case 'qmem':
    case 'umem':
      return `${op.kind}[${op.store === op.space ? op.space : `${op.store}:${op.space}`}] ${list(op.args, o)}`;
    case 'call':
      return `call ${op.callee}(${list(op.args, o)})`;
    case 'list':
      return `list [${list(op.args, o)}]`;
    default: {
      const never: never = op;
      return never;
    }
  }
}

export function renderCond(cond: CondOp, o: RenderOptions = {}): string {
  if ('of' in cond) return cond.test === '!' ? `!(${renderCond(cond.of[0]!, o)})` : `(${cond.of.map((c) => renderCond(c, o)).join(` ${cond.test} `)})`;
  return 'b' in cond ? `${renderArg(cond.a, o)} ${cond.test} ${renderArg(cond.b, o)}` : renderArg(cond.a, o);
}

export function renderOp(op: NodeOp, o: RenderOptions = {}): string {
  if (op.kind === 'switch') return `switch ${renderArg(op.subject, o)} { ${op.cases.map((c) => `${JSON.stringify(c.label)} => ${renderLeaf(c.op, o)}`).join('; ')} }`;
  if (op.kind === 'if') return `if ${renderCond(op.cond, o)} then ${renderLeaf(op.then, o)}${op.else === undefined ? '' : ` else ${renderLeaf(op.else, o)}`}`;
  if (op.kind === 'loop') return `loop ${renderArg(op.items, o)} do ${renderLeaf(op.body, o)}`;
  if (op.kind === 'try') return `try ${renderLeaf(op.body, o)} catch ${renderLeaf(op.catch, o)}`;
  return renderLeaf(op, o);
}

/** The entry flow first, then the others by name. */
export function flowsInOrder(plan: Plan): IrFlow[] {
  const names = Object.keys(plan.flows).sort();
  const ordered = [plan.entry, ...names.filter((n) => n !== plan.entry)];
  return ordered.flatMap((n) => (Object.hasOwn(plan.flows, n) ? [plan.flows[n]!] : []));
}
