/**
 * The AIS syntax tree: readonly, tagged by `kind` (STYLE.md 5), every node with its span.
 *
 * The parser builds it without judging meaning; the checker decides what a call names
 * (built-in op, capability, or another agent's flow), so `OpCall` stays one node.
 */

/** 1-based position range; `endCol` is exclusive. */
export interface Span {
  readonly line: number;
  readonly col: number;
  readonly endLine: number;
  readonly endCol: number;
}

/** An identifier with where it was written, for diagnostics that point at the name itself. */
export interface Name {
  readonly name: string;
  readonly span: Span;
}

export interface Program {
  readonly kind: 'program';
  readonly file: string;
  readonly agents: readonly Agent[];
  readonly span: Span;
}

export interface Agent {
  readonly kind: 'agent';
  readonly name: Name;
  readonly capabilities: readonly Capability[];
  /** Every `tools: [...]` entry of the agent, in source order (several lists are merged). */
  readonly tools: readonly Name[];
  readonly memory: readonly Memory[];
  readonly flows: readonly Flow[];
  /** apxm's agent-level declarations: parsed, checked and kept in the plan. */
  readonly declarations: AgentDeclarations;
  readonly span: Span;
}

/**
 * What apxm's agents declare beside their flows. `handlers` run when a message reaches the
 * agent (`communicate`); the rest describe the agent and are kept as written.
 */
export interface AgentDeclarations {
  readonly context?: StringLit;
  readonly discoverable: readonly Name[];
  readonly goals: readonly Goal[];
  readonly beliefs: readonly Belief[];
  readonly handlers: readonly Handler[];
}

/** `goals { name: "description" priority 2 }` or `goals { "description" }`. */
export interface Goal {
  readonly name?: Name;
  readonly description: string;
  readonly priority?: number;
  readonly span: Span;
}

/** `beliefs { name: value }`; the value as written (text of a string, number or name). */
export interface Belief {
  readonly name: Name;
  readonly value: string;
  readonly span: Span;
}

/** `on Message { a, b: str } if (cond) => { … }`: a flow that a message to the agent runs. */
export interface Handler {
  readonly event: Name;
  readonly params: readonly Param[];
  readonly guard?: Cond;
  readonly body: readonly Statement[];
  readonly span: Span;
}

export interface Capability {
  readonly kind: 'capability';
  readonly name: Name;
  readonly params: readonly Param[];
  readonly returnType?: Name;
  readonly span: Span;
}

/** `memory { session: STM, notes: LTM }`: named stores, each backed by one tier. */
export interface Memory {
  readonly kind: 'memory';
  readonly entries: readonly MemoryEntry[];
  readonly span: Span;
}

export interface MemoryEntry {
  readonly kind: 'memory_entry';
  readonly name: Name;
  readonly tier: Name;
  readonly span: Span;
}

export interface Flow {
  readonly kind: 'flow';
  readonly name: Name;
  readonly entry: boolean;
  readonly params: readonly Param[];
  readonly returnType?: Name;
  readonly body: readonly Statement[];
  readonly span: Span;
}

export interface Param {
  readonly kind: 'param';
  readonly name: Name;
  readonly type: Name;
  readonly span: Span;
}

export type Statement = OpCall | Switch | Return | If | Loop | Try;

/** `if (cond) { … } else { … }`; names bound in a branch end with it (apxm scopes them). */
export interface If {
  readonly kind: 'if';
  readonly cond: Cond;
  readonly then: readonly Statement[];
  readonly else?: readonly Statement[];
  readonly span: Span;
}

/** `loop (x in xs) { … }`: the body once per item of `xs` (a list literal, a JSON array, or lines). */
export interface Loop {
  readonly kind: 'loop';
  readonly variable: Name;
  readonly items: Expr;
  readonly body: readonly Statement[];
  readonly span: Span;
}

/** `try { … } catch { … }`: the catch block runs when anything in the try block fails. */
export interface Try {
  readonly kind: 'try';
  readonly body: readonly Statement[];
  readonly catchBody: readonly Statement[];
  readonly span: Span;
}

/** A condition: a value's truth, a comparison, or `&&`, `||`, `!` of conditions. */
export type Cond =
  | { readonly kind: 'truthy'; readonly value: Expr; readonly span: Span }
  | { readonly kind: 'compare'; readonly op: CompareOp; readonly left: Expr; readonly right: Expr; readonly span: Span }
  | { readonly kind: 'logic'; readonly op: '&&' | '||'; readonly left: Cond; readonly right: Cond; readonly span: Span }
  | { readonly kind: 'not'; readonly value: Cond; readonly span: Span };

export type CompareOp = '==' | '!=' | '<' | '<=' | '>' | '>=';

/**
 * `op(args) -> result`, `tool(args)`, `Agent.flow(args) -> result`.
 * `agent` is set only for the qualified (cross-agent) form.
 */
export interface OpCall {
  readonly kind: 'op';
  readonly agent?: Name;
  readonly op: Name;
  readonly args: readonly Expr[];
  /** `name: value` arguments as apxm's docs write them (`think(prompt: "…", budget_tokens: 1000)`). */
  readonly named?: readonly NamedArg[];
  readonly result?: Name;
  readonly span: Span;
}

export interface NamedArg {
  readonly name: Name;
  readonly value: Expr;
  readonly span: Span;
}

export interface SwitchCase {
  readonly kind: 'case';
  readonly label: StringLit;
  readonly call: OpCall;
  readonly span: Span;
}

export interface Switch {
  readonly kind: 'switch';
  readonly subject: VarRef;
  readonly cases: readonly SwitchCase[];
  readonly default?: OpCall;
  readonly result?: Name;
  readonly span: Span;
}

export interface Return {
  readonly kind: 'return';
  readonly value: Expr;
  readonly span: Span;
}

export type Expr = StringLit | VarRef | Concat | ListLit;

/** `["a", b]`: a list, which is a JSON array at run time. */
export interface ListLit {
  readonly kind: 'list';
  readonly items: readonly Expr[];
  readonly span: Span;
}

export interface StringLit {
  readonly kind: 'string';
  /** The decoded value: escapes already applied. */
  readonly value: string;
  readonly span: Span;
}

export interface VarRef {
  readonly kind: 'var';
  readonly name: string;
  readonly span: Span;
}

/** `a + "b" + c`, flattened: `+` is associative on strings, so a list is the honest shape. */
export interface Concat {
  readonly kind: 'concat';
  readonly parts: readonly Expr[];
  readonly span: Span;
}

/** The span from the start of `a` to the end of `b`. */
export function joinSpans(a: Span, b: Span): Span {
  return { line: a.line, col: a.col, endLine: b.endLine, endCol: b.endCol };
}

/** Whether a `return` can be reached inside `stmt`'s blocks (an if, loop or try), at any depth. */
export function blockMayReturn(stmt: Statement): boolean {
  const any = (b: readonly Statement[]): boolean => b.some((s) => s.kind === 'return' || blockMayReturn(s));
  switch (stmt.kind) {
    case 'if':
      return any(stmt.then) || any(stmt.else ?? []);
    case 'loop':
      return any(stmt.body);
    case 'try':
      return any(stmt.body) || any(stmt.catchBody);
    case 'op':
    case 'switch':
    case 'return':
      return false;
    default: {
      const never: never = stmt;
      return never;
    }
  }
}

const handlerFlows = new WeakMap<Handler, Flow>();

/**
 * A handler as the flow a message runs: named `on Event`, its fields its parameters, its
 * body guarded by `if (guard) { … }` when it has one (a message that fails the guard runs
 * nothing and answers ""). The same object every time, so lowering meets it once.
 */
export function handlerFlow(handler: Handler): Flow {
  let flow = handlerFlows.get(handler);
  if (flow === undefined) {
    const body: readonly Statement[] = handler.guard === undefined ? handler.body : [{ kind: 'if', cond: handler.guard, then: handler.body, span: handler.span }];
    flow = { kind: 'flow', name: { name: `on ${handler.event.name}`, span: handler.event.span }, entry: false, params: handler.params, body, span: handler.span };
    handlerFlows.set(handler, flow);
  }
  return flow;
}

/** Every call in a list of statements, nested blocks and switch cases included. */
export function forEachCall(stmts: readonly Statement[], fn: (call: OpCall) => void): void {
  for (const stmt of stmts) {
    switch (stmt.kind) {
      case 'op':
        fn(stmt);
        break;
      case 'switch':
        for (const c of stmt.cases) fn(c.call);
        if (stmt.default !== undefined) fn(stmt.default);
        break;
      case 'if':
        forEachCall(stmt.then, fn);
        if (stmt.else !== undefined) forEachCall(stmt.else, fn);
        break;
      case 'loop':
        forEachCall(stmt.body, fn);
        break;
      case 'try':
        forEachCall(stmt.body, fn);
        forEachCall(stmt.catchBody, fn);
        break;
      case 'return':
        break;
      default: {
        const never: never = stmt;
        return never;
      }
    }
  }
}
