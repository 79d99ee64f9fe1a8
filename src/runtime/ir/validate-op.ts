/**
 * Validation of one node's op, for `validatePlan`: the op's shape and every part of every
 * argument. The op comes from JSON that may have been edited, so it is `unknown` here.
 *
 * What is reported through `ctx`: refs, params, callees and tool names, which only the flow
 * and the plan can judge. `prev` is the answer of the step before, so it is valid only in a
 * fused chain's second step or later. A literal `inv` name is checked against the tool
 * registry; a computed one is known only at run time.
 */
import { LLM_OPS, MEMORY_SPACES } from '../ais/ops.js';

export interface OpContext {
  readonly report: (message: string) => void;
  readonly ref: (id: unknown) => void;
  readonly param: (name: string) => void;
  readonly callee: (name: string) => void;
  readonly tool: (name: string) => void;
}

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const includes = (list: readonly string[], v: unknown): boolean => typeof v === 'string' && list.includes(v);

/** Checks the args of one op; `prevAllowed` inside fused steps after the first. */
function checkArgs(args: unknown, ctx: OpContext, where: string, prevAllowed = false): void {
  if (!Array.isArray(args)) return ctx.report(`${where}: args must be a list`);
  for (const arg of args as unknown[]) checkArg(arg, ctx, where, prevAllowed);
}

export function checkArg(arg: unknown, ctx: OpContext, where: string, prevAllowed = false): void {
  if (!Array.isArray(arg)) return ctx.report(`${where}: an argument must be a list of parts`);
  for (const part of arg as unknown[]) {
    const keys = isObject(part) ? Object.keys(part) : [];
    const p = part as Obj;
    if (keys.length !== 1) ctx.report(`${where}: ${JSON.stringify(part)} is not a part (text, ref, param or prev)`);
    else if (keys[0] === 'text' && typeof p.text === 'string') continue;
    else if (keys[0] === 'ref') ctx.ref(p.ref);
    else if (keys[0] === 'param' && typeof p.param === 'string') ctx.param(p.param);
    else if (keys[0] === 'prev' && p.prev === true) {
      if (!prevAllowed) ctx.report(`${where}: "prev" is only valid in a fused chain's second step or later`);
    } else ctx.report(`${where}: ${JSON.stringify(part)} is not a part (text, ref, param or prev)`);
  }
}

function checkLeaf(op: Obj, ctx: OpContext, where: string): void {
  switch (op.kind) {
    case 'llm':
      if (!includes(LLM_OPS, op.op)) ctx.report(`${where}: unknown LLM op ${JSON.stringify(op.op)}`);
      if (op.options !== undefined) {
        const o = isObject(op.options) ? op.options : {};
        if (!isObject(op.options) || Object.keys(o).some((k) => k !== 'max_tokens' && k !== 'model')) ctx.report(`${where}: options may hold max_tokens and model only`);
        if (o.max_tokens !== undefined && !(Number.isSafeInteger(o.max_tokens) && (o.max_tokens as number) > 0)) ctx.report(`${where}: max_tokens must be a positive integer`);
        if (o.model !== undefined && (typeof o.model !== 'string' || o.model === '')) ctx.report(`${where}: model must be a non-empty string`);
      }
      return checkArgs(op.args, ctx, where);
    case 'fused_llm': {
      if (!Array.isArray(op.steps) || op.steps.length === 0) return ctx.report(`${where}: a fused chain needs steps`);
      (op.steps as unknown[]).forEach((step, i) => {
        const s = isObject(step) ? step : {};
        if (!includes(LLM_OPS, s.op)) ctx.report(`${where} step ${i + 1}: unknown LLM op ${JSON.stringify(s.op)}`);
        checkArgs(s.args, ctx, `${where} step ${i + 1}`, i > 0);
      });
      return;
    }
    case 'print':
    case 'merge':
      return checkArgs(op.args, ctx, where);
    case 'tool':
      checkArgs(op.args, ctx, where);
      if (op.via === 'capability') {
        if (typeof op.tool !== 'string' || op.tool === '') return ctx.report(`${where}: a capability call needs a tool name`);
        if (!Array.isArray(op.params) || !Array.isArray(op.args) || op.params.length !== op.args.length) {
          return ctx.report(`${where}: capability ${op.tool} needs one argument per declared parameter`);
        }
        return ctx.tool(op.tool);
      }
      if (op.via === 'inv') {
        const name = Array.isArray(op.args) ? (op.args as unknown[])[0] : undefined;
        if (!Array.isArray(name)) return ctx.report(`${where}: inv needs a tool name`);
        const [only, ...more] = name as unknown[];
        if (more.length === 0 && isObject(only) && typeof only.text === 'string') ctx.tool(only.text);
        return;
      }
      return ctx.report(`${where}: a tool call is via "capability" or "inv", not ${JSON.stringify(op.via)}`);
    case 'qmem':
    case 'umem':
      if (!includes(MEMORY_SPACES, op.space)) ctx.report(`${where}: unknown memory space ${JSON.stringify(op.space)}; expected ${MEMORY_SPACES.join(', ')}`);
      if (typeof op.store !== 'string' || op.store === '') ctx.report(`${where}: ${op.kind} needs a store name`);
      if (!Array.isArray(op.args) || op.args.length !== 1) ctx.report(`${where}: ${op.kind} takes one argument`);
      return checkArgs(op.args, ctx, where);
    case 'call':
      if (typeof op.callee !== 'string') return ctx.report(`${where}: a call needs a callee`);
      ctx.callee(op.callee);
      return checkArgs(op.args, ctx, where);
    case 'list':
      return checkArgs(op.args, ctx, where);
    default:
      return ctx.report(`${where}: unknown op kind ${JSON.stringify(op.kind)}`);
  }
}

/** Checks a node's op; returns its kind when it has a known one. */
const COND_TESTS: readonly string[] = ['truthy', '==', '!=', '<', '<=', '>', '>=', '&&', '||', '!'];

function checkCond(cond: unknown, ctx: OpContext, where: string): void {
  if (!isObject(cond) || typeof cond.test !== 'string' || !COND_TESTS.includes(cond.test)) return ctx.report(`${where}: not a condition`);
  if (cond.test === '&&' || cond.test === '||' || cond.test === '!') {
    if (!Array.isArray(cond.of) || cond.of.length === 0 || (cond.test === '!' && cond.of.length !== 1)) return ctx.report(`${where}: ${cond.test} needs its conditions`);
    for (const c of cond.of as unknown[]) checkCond(c, ctx, where);
    return;
  }
  checkArg(cond.a, ctx, where);
  if (cond.test !== 'truthy') checkArg(cond.b, ctx, where);
}

function checkBlock(block: unknown, ctx: OpContext, where: string): void {
  if (!isObject(block) || block.kind !== 'call') return ctx.report(`${where}: a block is a call of its flow`);
  checkLeaf(block, ctx, where);
}

export function checkNodeOp(op: unknown, ctx: OpContext): string | undefined {
  if (!isObject(op)) {
    ctx.report('has no op');
    return undefined;
  }
  if (op.kind === 'if') {
    checkCond(op.cond, ctx, 'if condition');
    checkBlock(op.then, ctx, 'if then');
    if (op.else !== undefined) checkBlock(op.else, ctx, 'if else');
    return 'if';
  }
  if (op.kind === 'loop') {
    checkArg(op.items, ctx, 'loop items');
    checkBlock(op.body, ctx, 'loop body');
    return 'loop';
  }
  if (op.kind === 'try') {
    checkBlock(op.body, ctx, 'try body');
    checkBlock(op.catch, ctx, 'try catch');
    return 'try';
  }
  if (op.kind !== 'switch') {
    checkLeaf(op, ctx, String(op.kind));
    return typeof op.kind === 'string' ? op.kind : undefined;
  }
  checkArg(op.subject, ctx, 'switch subject');
  if (!Array.isArray(op.cases) || op.cases.length === 0) ctx.report('a switch needs cases');
  else {
    for (const c of op.cases as unknown[]) {
      const sc = isObject(c) ? c : {};
      const where = `case ${JSON.stringify(sc.label)}`;
      if (typeof sc.label !== 'string') ctx.report(`${where}: a case needs a string label`);
      if (!isObject(sc.op) || sc.op.kind === 'switch') ctx.report(`${where}: a case holds one op`);
      else checkLeaf(sc.op, ctx, where);
    }
  }
  return 'switch';
}
