/**
 * Checks one flow body: scopes, calls, memory spaces, switch shape, unused values.
 *
 * Scoping: a flow sees its parameters and the results bound by earlier statements, in order;
 * a name bound by a later statement is undefined where it is used. Values are
 * single-assignment (apxm builds a dataflow DAG from them), so binding a name twice, or
 * rebinding a parameter, is an error. A bound result nobody reads is a warning: the op still
 * runs and costs money, which is usually a mistake but not a wrong program.
 */
import type { Cond, Expr, Flow, Handler, Name, OpCall, Param, Span, Statement, Switch, VarRef } from './ast.js';
import { blockMayReturn, handlerFlow } from './ast.js';
import { isHoistedName } from './parse-statements.js';
import type { AgentIndex, CallEdge, ProgramIndex } from './program-index.js';
import type { DiagnosticBag } from './diagnostics.js';
import { classifyCall, isMemorySpace } from './ops.js';
import type { CallKind } from './ops.js';

interface Binding {
  readonly name: Name;
  readonly param: boolean;
  used: boolean;
}

export interface FlowContext {
  readonly diags: DiagnosticBag;
  readonly index: ProgramIndex;
  readonly agent: AgentIndex;
  /** Cross-agent calls found in this flow, for cycle detection. */
  readonly edges: CallEdge[];
}

export function checkFlow(flow: Flow, ctx: FlowContext): void {
  checkBody(flow.params, flow.body, ctx, flow.name.name);
}

/** A handler's body is checked like a flow whose parameters are the message's fields. */
export function checkHandler(handler: Handler, ctx: FlowContext): void {
  const fields = new Set(handler.params.map((p) => p.name.name));
  for (const v of handler.guard === undefined ? [] : condVars(handler.guard)) {
    if (!fields.has(v.name)) ctx.diags.error(v.span, `undefined variable "${v.name}" in the guard of on ${handler.event.name}`);
  }
  checkBody(handler.params, handler.body, ctx, handlerFlow(handler).name.name);
}

/** Every variable an expression reads. */
export function exprVars(e: Expr): VarRef[] {
  switch (e.kind) {
    case 'string':
      return [];
    case 'var':
      return [e];
    case 'concat':
      return e.parts.flatMap(exprVars);
    case 'list':
      return e.items.flatMap(exprVars);
    default: {
      const never: never = e;
      return never;
    }
  }
}

/** Every variable a condition reads. */
export function condVars(c: Cond): VarRef[] {
  switch (c.kind) {
    case 'truthy':
      return exprVars(c.value);
    case 'compare':
      return [...exprVars(c.left), ...exprVars(c.right)];
    case 'logic':
      return [...condVars(c.left), ...condVars(c.right)];
    case 'not':
      return condVars(c.value);
    default: {
      const never: never = c;
      return never;
    }
  }
}

function checkBody(params: readonly Param[], body: readonly Statement[], ctx: FlowContext, owner: string): void {
  // Scopes nest: a block (if, else, loop, try, catch) sees the names bound before it, and
  // what it binds ends with it, as in apxm. A name is bound once in all enclosing scopes.
  const scopes: Map<string, Binding>[] = [];
  /** Names bound in blocks that have ended, for the hint when one is read after its block. */
  const ended = new Map<string, Name>();
  const lookup = (name: string): Binding | undefined => {
    for (let i = scopes.length - 1; i >= 0; i--) {
      const b = scopes[i]!.get(name);
      if (b !== undefined) return b;
    }
    return undefined;
  };
  const define = (name: Name, param: boolean): void => {
    const previous = lookup(name.name);
    if (previous !== undefined) {
      const at = `${previous.name.span.line}:${previous.name.span.col}`;
      ctx.diags.error(name.span, `"${name.name}" is already defined at ${at}: values are single-assignment`);
      return;
    }
    scopes[scopes.length - 1]!.set(name.name, { name, param, used: false });
  };
  const useVars = (vars: readonly VarRef[]): void => {
    for (const v of vars) {
      const binding = lookup(v.name);
      if (binding !== undefined) {
        binding.used = true;
        continue;
      }
      const inner = ended.get(v.name);
      const hint = inner === undefined ? '' : `: it is bound inside a block at ${inner.span.line}:${inner.span.col}, and a block's names end with it`;
      ctx.diags.error(v.span, `undefined variable "${v.name}"${hint}`);
    }
  };
  const useExpr = (e: Expr): void => useVars(exprVars(e));
  /** A call's arguments, positional and named. */
  const useArgs = (call: OpCall): void => {
    call.args.forEach(useExpr);
    call.named?.forEach((n) => useExpr(n.value));
  };
  const closeScope = (): void => {
    const scope = scopes.pop()!;
    for (const b of scope.values()) {
      if (!b.param && !b.used && !isHoistedName(b.name.name)) ctx.diags.warning(b.name.span, `value "${b.name.name}" is never used`);
      if (scopes.length > 0) ended.set(b.name.name, b.name);
    }
  };
  // An if that may return moves what follows it into its branches (lower.ts); a loop or try
  // cannot, since the rest would repeat per item or fall under the catch.
  const checkFollowers = (stmts: readonly Statement[]): void => {
    stmts.forEach((s, i) => {
      if ((s.kind === 'loop' || s.kind === 'try') && i < stmts.length - 1 && blockMayReturn(s)) {
        const keyword: Span = { ...s.span, endLine: s.span.line, endCol: s.span.col + s.kind.length };
        ctx.diags.error(keyword, `a ${s.kind} whose block returns must be the last statement of its block: move what follows into it, or return after it`);
      }
    });
  };
  const block = (stmts: readonly Statement[], bind?: Name): void => {
    checkFollowers(stmts);
    scopes.push(new Map());
    // The loop variable is a parameter of the body: never reported as unused.
    if (bind !== undefined) define(bind, true);
    stmts.forEach(checkStatement);
    closeScope();
  };

  checkFollowers(body);
  scopes.push(new Map());
  for (const p of params) define(p.name, true);
  body.forEach(checkStatement);
  closeScope();

  function checkStatement(stmt: Statement): void {
    switch (stmt.kind) {
      case 'op':
        checkCall(stmt, ctx, owner);
        useArgs(stmt);
        if (stmt.result !== undefined) define(stmt.result, false);
        return;
      case 'switch':
        checkSwitch(stmt);
        return;
      case 'return':
        useExpr(stmt.value);
        return;
      case 'if':
        useVars(condVars(stmt.cond));
        block(stmt.then);
        if (stmt.else !== undefined) block(stmt.else);
        return;
      case 'loop':
        useExpr(stmt.items);
        block(stmt.body, stmt.variable);
        return;
      case 'try':
        block(stmt.body);
        block(stmt.catchBody);
        return;
      default: {
        const never: never = stmt;
        return never;
      }
    }
  }

  function checkSwitch(stmt: Switch): void {
    useExpr(stmt.subject);
    if (stmt.cases.length === 0) {
      const keyword: Span = { ...stmt.span, endLine: stmt.span.line, endCol: stmt.span.col + 'switch'.length };
      const what = isHoistedName(stmt.subject.name) ? 'its subject' : `"${stmt.subject.name}"`;
      ctx.diags.error(keyword, `switch on ${what} has no cases`);
    }
    const labels = new Set<string>();
    for (const c of stmt.cases) {
      if (labels.has(c.label.value)) ctx.diags.error(c.label.span, `duplicate case ${JSON.stringify(c.label.value)}`);
      labels.add(c.label.value);
      checkCall(c.call, ctx, owner);
      useArgs(c.call);
    }
    if (stmt.default !== undefined) {
      checkCall(stmt.default, ctx, owner);
      useArgs(stmt.default);
    }
    if (stmt.result !== undefined) define(stmt.result, false);
  }
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** Named arguments with a meaning on LLM ops; `budget_tokens` a positive whole number, `model` a string. */
export const LLM_NAMED_ARGS: ReadonlySet<string> = new Set(['prompt', 'budget_tokens', 'model']);

/**
 * Named arguments: on LLM ops the known ones have a meaning (others warn); on a tool they are
 * its input's fields (a declared capability's must be its parameters); elsewhere they warn.
 */
function checkNamed(call: OpCall, kind: CallKind['kind'], ctx: FlowContext): void {
  const { diags } = ctx;
  const llm = kind === 'llm';
  const seen = new Set<string>();
  for (const n of call.named ?? []) {
    const name = n.name.name;
    if (seen.has(name)) {
      diags.error(n.name.span, `argument ${name} is given twice`);
      continue;
    }
    seen.add(name);
    if (kind === 'capability') {
      const capability = ctx.agent.capabilities.get(call.op.name);
      if (capability !== undefined && !capability.params.some((p) => p.name.name === name)) {
        diags.error(n.name.span, `capability "${call.op.name}" has no parameter ${name} (it takes ${capability.params.map((p) => p.name.name).join(', ') || 'none'})`);
      }
      continue;
    }
    if (!llm || !LLM_NAMED_ARGS.has(name)) {
      diags.warning(n.name.span, `argument ${name} has no meaning for ${call.op.name} and is ignored${llm ? ` (known: ${[...LLM_NAMED_ARGS].join(', ')})` : ''}`);
      continue;
    }
    if (name === 'budget_tokens' && !(n.value.kind === 'string' && /^[1-9]\d*$/.test(n.value.value))) diags.error(n.value.span, 'budget_tokens must be a positive whole number, e.g. budget_tokens: 1000');
    if (name === 'model' && !(n.value.kind === 'string' && n.value.value.trim() !== '')) diags.error(n.value.span, 'model must be a model name in quotes, e.g. model: "gpt-4o-mini"');
  }
}

/** Checks what a call names and its arguments' shape; variable uses are checked by the caller. */
function checkCall(call: OpCall, ctx: FlowContext, owner: string): void {
  const { diags } = ctx;
  const op = call.op.name;
  const args = call.args;
  const kind = classifyCall(call);
  checkNamed(call, kind.kind, ctx);
  switch (kind.kind) {
    case 'llm': {
      const template = args[0] ?? call.named?.find((n) => n.name.name === 'prompt')?.value;
      if (template === undefined) diags.error(call.op.span, `${op} needs a template argument`);
      else if (op === 'verify' && args.length < 2 && call.named?.some((n) => n.name.name === 'prompt') !== true) diags.error(call.op.span, 'verify takes a claim and the evidence, then an optional template: verify(claim, evidence[, template])');
      else if (args.length === 1 && template.kind === 'string' && template.value.trim() === '') {
        diags.error(template.span, `${op} has an empty template and no context`);
      }
      return;
    }
    case 'print':
      if (call.result !== undefined) diags.error(call.result.span, 'print produces no value to bind');
      return;
    case 'merge':
      if (args.length === 0) diags.error(call.op.span, 'merge needs at least one value');
      return;
    case 'inv': {
      const name = args[0];
      if (name === undefined || args.length > 2) {
        diags.error(call.op.span, 'inv takes a capability name and an optional JSON payload');
      } else if (name.kind !== 'string') {
        diags.error(name.span, 'inv: the capability name must be a string literal');
      } else if (name.value.trim() === '') {
        diags.error(name.span, 'inv: empty capability name');
      }
      return;
    }
    case 'qmem':
    case 'umem':
      checkMemoryCall(call, ctx);
      return;
    case 'capability': {
      const capability = ctx.agent.capabilities.get(op);
      // An undeclared name is a tool invocation, as apxm lowers it (INV): the registry decides
      // at run time (a dry run simulates a tool it does not have, with a warning).
      if (capability === undefined) return;
      if (!ctx.agent.tools.has(op)) {
        diags.error(call.op.span, `capability "${op}" is not listed in tools: [...] of agent "${ctx.agent.agent.name.name}"`);
      } else if (capability.params.length !== args.length + (call.named?.length ?? 0)) {
        diags.error(call.op.span, `capability "${op}" takes ${plural(capability.params.length, 'argument')}, got ${args.length + (call.named?.length ?? 0)}`);
      }
      return;
    }
    case 'flow': {
      const target = ctx.index.agents.get(kind.agent);
      const agentName = call.agent!;
      const targetFlow = target?.flows.get(kind.flow) ?? target?.handlers.get(kind.flow);
      if (target === undefined) diags.error(agentName.span, `unknown agent "${kind.agent}"`);
      else if (targetFlow === undefined) diags.error(call.op.span, `agent "${kind.agent}" has no flow "${kind.flow}"`);
      else {
        if (targetFlow.params.length !== args.length) {
          diags.error(call.op.span, `flow ${kind.agent}.${kind.flow} takes ${plural(targetFlow.params.length, 'argument')}, got ${args.length}`);
        }
        ctx.edges.push({
          from: `${ctx.agent.agent.name.name}.${owner}`,
          to: `${kind.agent}.${kind.flow}`,
          span: { ...agentName.span, endLine: call.op.span.endLine, endCol: call.op.span.endCol },
        });
      }
      return;
    }
    default: {
      const never: never = kind;
      return never;
    }
  }
}

function checkMemoryCall(call: OpCall, ctx: FlowContext): void {
  const op = call.op.name;
  const space = call.args[1];
  if (call.args.length !== 2 || space === undefined) {
    const first = op === 'qmem' ? 'a key' : 'a value';
    ctx.diags.error(call.op.span, `${op} takes ${first} and a memory space ("stm", "ltm" or "episodic")`);
    return;
  }
  if (space.kind !== 'string') {
    ctx.diags.error(space.span, `${op}: the memory space must be a string literal ("stm", "ltm" or "episodic")`);
    return;
  }
  // Tiers are case-insensitive (the memory block writes STM, calls write "stm"); a name from
  // the agent's memory block stands for its tier.
  if (isMemorySpace(space.value.toLowerCase()) || ctx.agent.memory.has(space.value)) return;
  ctx.diags.error(space.span, `unknown memory space ${JSON.stringify(space.value)}: expected "stm", "ltm" or "episodic"`);
}
