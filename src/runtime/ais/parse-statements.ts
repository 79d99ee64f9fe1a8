/**
 * Flow bodies: statements and expressions.
 *
 *   block     = "{" { statement [";"] } "}" | statement
 *   statement = "return" [ expr ]
 *             | "let" IDENT [ ":" IDENT ] "=" expr
 *             | "switch" expr "{" { "case" STRING "=>" call [","] } [ "default" "=>" call ] "}" [ "->" IDENT ]
 *             | "if" "(" cond ")" block [ "else" ( block | if ) ]
 *             | "loop" "(" IDENT "in" expr ")" block
 *             | "try" block "catch" block
 *             | "parallel" block
 *             | expr [ "->" IDENT ]                    (a call, or a value bound to a name)
 *   cond      = and { "||" and }     and = not { "&&" not }     not = "!" not | compare
 *   compare   = expr [ ( "==" | "!=" | "<" | "<=" | ">" | ">=" ) expr ]
 *   expr      = sum { "|>" stage }                      (`v |> f(a)` is `f(v, a)`, as apxm desugars it)
 *   sum       = primary { "+" primary }
 *   primary   = STRING | NUMBER | "true" | "false" | "null" | "[" [ expr { "," expr } ] "]"
 *             | "(" expr ")" | call | IDENT
 *   call      = IDENT [ "." IDENT ] "(" [ arg { "," arg } [","] ] ")"      arg = [ IDENT ":" ] expr
 *
 * A call inside an expression (`print(ask("…"))`, `return ask("…")`, `switch ask("…")`) is
 * hoisted: it becomes a statement of its own just before the one that reads it, bound to a
 * name no program can write (`call@line:col`). Every AIS value is a dataflow edge, so this is
 * exactly the graph apxm builds from the nested form.
 *
 * `parallel { … }` is its statements: a dataflow graph runs whatever does not depend on
 * each other at once, and apxm does not scope names bound inside it.
 */
import type { Cond, CompareOp, Expr, Name, NamedArg, OpCall, Return, Span, Statement, StringLit, Switch, SwitchCase, VarRef } from './ast.js';
import { joinSpans } from './ast.js';
import { restoreBraces } from './lexer.js';
import type { TokenCursor } from './token-cursor.js';
import { KEYWORDS, SyntaxAbort, describe } from './token-cursor.js';

const STATEMENT_STOPS: ReadonlySet<string> = new Set(['return', 'switch', 'let', 'if', 'loop', 'try', 'parallel']);
const CASE_STOPS: ReadonlySet<string> = new Set(['case', 'default']);
/** Declarations that cannot appear in a body: meeting one means the body's `}` is missing. */
const DECLARATION_STARTS: ReadonlySet<string> = new Set(['agent', 'flow', 'capability', 'tools', 'memory', '@']);
const COMPARE_OPS: ReadonlySet<string> = new Set(['==', '!=', '<', '<=', '>', '>=']);

/** Calls hoisted out of the expressions of the statement being parsed, in evaluation order. */
type Hoisted = Statement[];

/** How deep blocks (if, loop, try, parallel) may nest: deeper is a mistake, and would exhaust the stack. */
export const MAX_BLOCK_DEPTH = 100;
/** How deep calls, lists and parentheses may nest in one expression, for the same reason. */
export const MAX_EXPR_DEPTH = 100;

/** A nesting depth the parser tracks while it descends. */
interface Depth {
  now: number;
  readonly max: number;
  /** The error when `max` is reached. */
  readonly error: string;
  /** Skip to where the nest closes before failing (blocks): one error for the whole nest. */
  readonly skip: boolean;
}

const blockDepth: Depth = { now: 0, max: MAX_BLOCK_DEPTH, error: `blocks nested more than ${MAX_BLOCK_DEPTH} deep: move the inner part into a flow of its own`, skip: true };
const exprDepth: Depth = { now: 0, max: MAX_EXPR_DEPTH, error: `expression nested more than ${MAX_EXPR_DEPTH} deep: bind inner values to names first`, skip: false };

/** `parse` one level deeper in `depth`, or one error when that is too deep. */
function deeper<T>(c: TokenCursor, depth: Depth, parse: () => T): T {
  if (depth.now >= depth.max) {
    const at = c.peek().span;
    // A block nest's braces balance back to this level: skip to there.
    if (depth.skip) c.recoverTo(new Set());
    return c.fail(depth.error, at);
  }
  depth.now++;
  try {
    return parse();
  } finally {
    depth.now--;
  }
}

/** Parses `{ statements }`; `owner` names what the block closes in a missing-brace error (`flow "main"`). */
export function parseBlock(c: TokenCursor, owner: string): Statement[] {
  return deeper(c, blockDepth, () => parseBlockAt(c, owner));
}

function parseBlockAt(c: TokenCursor, owner: string): Statement[] {
  c.expect('{');
  const body: Statement[] = [];
  for (;;) {
    const t = c.peek();
    if (t.kind === 'eof') {
      c.diags.error(t.span, `expected '}' to close ${owner}, found end of file`);
      return body;
    }
    if (c.at('}')) {
      c.next();
      return body;
    }
    if ((t.kind === 'ident' && DECLARATION_STARTS.has(t.text)) || c.at('@')) {
      // Do not consume: the declaration belongs to the enclosing agent or file.
      c.diags.error(t.span, `expected '}' to close ${owner}, found ${describe(t)}`);
      return body;
    }
    const before = c.index;
    try {
      body.push(...parseStatement(c));
      c.eat(';');
    } catch (e) {
      if (!(e instanceof SyntaxAbort)) throw e;
      c.recoverTo(STATEMENT_STOPS, t.span.line);
    }
    if (c.index === before) c.next();
  }
}

/** A block in braces, or apxm's single statement without them. */
function parseInnerBlock(c: TokenCursor, owner: string): Statement[] {
  if (c.at('{')) return parseBlock(c, owner);
  return deeper(c, blockDepth, () => {
    const stmts = parseStatement(c);
    c.eat(';');
    return stmts;
  });
}

/** One statement, preceded by the calls hoisted out of its expressions. */
export function parseStatement(c: TokenCursor): Statement[] {
  const h: Hoisted = [];
  const stmt = parseStatementInto(c, h);
  if (Array.isArray(stmt)) h.push(...stmt);
  else h.push(stmt);
  return h;
}

function parseStatementInto(c: TokenCursor, h: Hoisted): Statement | Statement[] {
  if (c.at('return')) return parseReturn(c, h);
  if (c.at('switch')) return parseSwitch(c, h);
  if (c.at('let')) return parseLet(c, h);
  if (c.at('if')) return parseIf(c, h);
  if (c.at('loop')) return parseLoop(c, h);
  if (c.at('try')) return parseTry(c);
  if (c.at('parallel')) {
    c.next();
    if (!c.at('{')) c.fail(`expected '{' after parallel, found ${describe(c.peek())}`);
    return parseBlock(c, 'parallel block');
  }
  const start = c.peek();
  const value = parseExpr(c, h);
  const result = parseResult(c);
  const call = takeHoisted(h, value);
  if (call !== undefined) return result === undefined ? stripResult(call) : { ...call, result, span: joinSpans(call.span, result.span) };
  if (result === undefined) return c.fail(`expected a statement, found ${describe(start)}`, start.span);
  return bindValue(start.span, result, value);
}

/** When `value` is exactly the last hoisted call's answer, that call (removed from `h`): the statement is the call. */
function takeHoisted(h: Hoisted, value: Expr): OpCall | undefined {
  const last = h[h.length - 1];
  if (value.kind !== 'var' || last?.kind !== 'op' || last.result?.name !== value.name || !isHoistedName(value.name)) return undefined;
  h.pop();
  return last;
}

function stripResult(call: OpCall): OpCall {
  const { result: _hoistedName, ...rest } = call;
  return rest;
}

const HOISTED = /^call@\d+:\d+$/;

/** The name a value hoisted from `span` is bound to. */
function hoistedName(span: Span): Name {
  return { name: `call@${span.line}:${span.col}`, span };
}

/** The names calls hoisted out of expressions are bound to: `call@line:col`, which no program can write. */
export function isHoistedName(name: string): boolean {
  return HOISTED.test(name);
}

/** `let x = value` where value is not a call: a one-input `merge`, a pure node that passes its input on. */
function bindValue(start: Span, name: Name, value: Expr): OpCall {
  return { kind: 'op', op: { name: 'merge', span: start }, args: [value], result: name, span: joinSpans(start, value.span) };
}

/** `return expr`; `return` alone returns nothing. A call in it is hoisted like any other. */
function parseReturn(c: TokenCursor, h: Hoisted): Return {
  const start = c.next().span;
  if (c.at('}') || c.at(';')) return { kind: 'return', value: { kind: 'string', value: '', span: start }, span: start };
  const value = parseExpr(c, h);
  return { kind: 'return', value, span: joinSpans(start, value.span) };
}

function parseResult(c: TokenCursor): Name | undefined {
  if (c.eat('->') === undefined) return undefined;
  return c.expectName('a variable name after \'->\'');
}

function parseSwitch(c: TokenCursor, h: Hoisted): Switch {
  const start = c.next().span;
  const subject = asVar(h, parseExpr(c, h));
  c.expect('{');
  const cases: SwitchCase[] = [];
  let fallback: OpCall | undefined;
  while (!c.at('}') && c.peek().kind !== 'eof') {
    const before = c.index;
    const line = c.peek().span.line;
    try {
      if (c.at('case')) {
        const caseStart = c.next().span;
        const label = parseStringLit(c, 'a string label after \'case\'');
        c.expect('=>');
        const call = parseCaseCall(c);
        cases.push({ kind: 'case', label, call, span: joinSpans(caseStart, call.span) });
      } else if (c.at('default')) {
        const defaultToken = c.next();
        c.expect('=>');
        const call = parseCaseCall(c);
        if (fallback === undefined) fallback = call;
        else c.diags.error(defaultToken.span, 'switch has more than one default');
      } else {
        c.fail(`expected 'case', 'default' or '}', found ${describe(c.peek())}`);
      }
      c.eat(',');
      c.eat(';');
    } catch (e) {
      if (!(e instanceof SyntaxAbort)) throw e;
      c.recoverTo(CASE_STOPS, line);
    }
    if (c.index === before) c.next();
  }
  c.expect('}');
  const result = parseResult(c);
  const end = result?.span ?? c.previousSpan();
  return { kind: 'switch', subject, cases, default: fallback, result, span: joinSpans(start, end) };
}

/** A switch subject must be a variable in the switch node: any other expression is bound first, as `let` would. */
function asVar(h: Hoisted, value: Expr): VarRef {
  if (value.kind === 'var') return value;
  const name = hoistedName(value.span);
  h.push(bindValue(value.span, name, value));
  return { kind: 'var', name: name.name, span: value.span };
}

/** `let x = ask("…")` is `ask("…") -> x`; `let x = "a " + y` binds a value (see `bindValue`). */
function parseLet(c: TokenCursor, h: Hoisted): OpCall {
  const start = c.next().span;
  const name = c.expectName('a name after let');
  // apxm allows a type annotation (`let x: str = …`); every AIS value is text, so it is read and set aside.
  if (c.eat(':') !== undefined) c.expectName('a type after \':\'');
  c.expect('=');
  const value = parseExpr(c, h);
  const call = takeHoisted(h, value);
  if (call !== undefined) return { ...call, result: name, span: joinSpans(start, call.span) };
  return bindValue(start, name, value);
}

function parseIf(c: TokenCursor, h: Hoisted): Statement {
  const start = c.next().span;
  c.expect('(');
  const cond = parseCond(c, h);
  c.expect(')');
  const then = parseInnerBlock(c, 'the if block');
  if (c.eat('else') === undefined) return { kind: 'if', cond, then, span: joinSpans(start, c.previousSpan()) };
  // `else if (…)` is an else block holding one if; its condition's calls run only in that block.
  const otherwise = c.at('if') ? deeper(c, blockDepth, () => parseStatement(c)) : parseInnerBlock(c, 'the else block');
  return { kind: 'if', cond, then, else: otherwise, span: joinSpans(start, c.previousSpan()) };
}

function parseLoop(c: TokenCursor, h: Hoisted): Statement {
  const start = c.next().span;
  c.expect('(');
  const variable = c.expectName('a loop variable');
  if (c.eat('in') === undefined) c.fail(`expected 'in' after the loop variable, found ${describe(c.peek())}`);
  const items = parseExpr(c, h);
  c.expect(')');
  const body = parseInnerBlock(c, 'the loop block');
  return { kind: 'loop', variable, items, body, span: joinSpans(start, c.previousSpan()) };
}

function parseTry(c: TokenCursor): Statement {
  const start = c.next().span;
  if (!c.at('{')) c.fail(`expected '{' after try, found ${describe(c.peek())}`);
  const body = parseBlock(c, 'the try block');
  if (!c.at('catch')) c.fail(`expected 'catch' after the try block, found ${describe(c.peek())}`);
  c.next();
  if (!c.at('{')) c.fail(`expected '{' after catch, found ${describe(c.peek())}`);
  const catchBody = parseBlock(c, 'the catch block');
  return { kind: 'try', body, catchBody, span: joinSpans(start, c.previousSpan()) };
}

/** A condition outside a flow body (a handler's guard): calls are not allowed in it. */
export function parseCondition(c: TokenCursor): Cond {
  const start = c.peek().span;
  const h: Hoisted = [];
  const cond = parseCond(c, h);
  if (h.length > 0) c.fail('a guard cannot call an op: compare the message\'s fields', start);
  return cond;
}

/** `a || b` over `&&` over `!`: each level a left-associative chain of the one below. */
function parseCond(c: TokenCursor, h: Hoisted): Cond {
  return parseChain(c, '||', () => parseChain(c, '&&', () => parseNot(c, h)));
}

function parseChain(c: TokenCursor, op: '&&' | '||', operand: () => Cond): Cond {
  let left = operand();
  while (c.eat(op) !== undefined) {
    const right = operand();
    left = { kind: 'logic', op, left, right, span: joinSpans(left.span, right.span) };
  }
  return left;
}

function parseNot(c: TokenCursor, h: Hoisted): Cond {
  const bang = c.eat('!');
  if (bang !== undefined) {
    const value = parseNot(c, h);
    return { kind: 'not', value, span: joinSpans(bang.span, value.span) };
  }
  if (c.at('(') && !startsExprInParens(c)) {
    c.next();
    const inner = parseCond(c, h);
    c.expect(')');
    return inner;
  }
  const left = parseExpr(c, h);
  const t = c.peek();
  if (t.kind === 'punct' && COMPARE_OPS.has(t.text)) {
    c.next();
    const right = parseExpr(c, h);
    return { kind: 'compare', op: t.text as CompareOp, left, right, span: joinSpans(left.span, right.span) };
  }
  return { kind: 'truthy', value: left, span: left.span };
}

/**
 * Inside a condition, `(` opens either a grouped condition or a grouped value: it is a value
 * when the matching `)` is followed by `+` or `|>` (a value goes on), else a condition.
 */
function startsExprInParens(c: TokenCursor): boolean {
  let depth = 0;
  for (let k = 0; ; k++) {
    const t = c.peek(k);
    if (t.kind === 'eof') return false;
    if (t.kind !== 'punct') continue;
    if (t.text === '(') depth++;
    else if (t.text === ')' && --depth === 0) return c.at('+', k + 1) || c.at('|>', k + 1);
  }
}

function parseCaseCall(c: TokenCursor): OpCall {
  const start = c.peek().span;
  const nested: Hoisted = [];
  const call = parseCall(c, nested);
  // A case runs only when chosen; a call in its arguments would have to run before the switch.
  if (nested.length > 0) c.fail('a case runs one call: bind the inner call before the switch and pass its name', start);
  if (c.at('->')) {
    c.fail('a case cannot bind a result: write `} -> name` after the switch instead');
  }
  return call;
}

/** apxm's other names for built-in ops. */
const OP_ALIASES: Readonly<Record<string, string>> = {
  llm: 'ask', wait_all: 'merge', wait: 'merge', tool: 'inv', invoke: 'inv',
  query_memory: 'qmem', mem: 'qmem', update_memory: 'umem', talk: 'communicate',
};

/** True when a call starts here: `name(` or `Agent.flow(`. */
function atCall(c: TokenCursor): boolean {
  const t = c.peek();
  return t.kind === 'ident' && !KEYWORDS.has(t.text) && (c.at('(', 1) || (c.at('.', 1) && c.at('(', 3)));
}

/** A call; calls in its arguments are hoisted into `h`. */
function parseCall(c: TokenCursor, h: Hoisted): OpCall {
  const first = c.expectName('a statement');
  let agent: Name | undefined;
  let op = first;
  if (c.eat('.') !== undefined) {
    agent = first;
    op = c.expectName('a flow name after \'.\'');
  } else if (Object.hasOwn(OP_ALIASES, op.name)) {
    op = { name: OP_ALIASES[op.name]!, span: op.span };
  }
  c.expect('(');
  const args: Expr[] = [];
  const named: NamedArg[] = [];
  while (!c.at(')')) {
    if (c.peek().kind === 'ident' && c.at(':', 1)) {
      const name = c.expectName('an argument name');
      c.expect(':');
      const value = parseExpr(c, h);
      named.push({ name, value, span: joinSpans(name.span, value.span) });
    } else {
      args.push(parseExpr(c, h));
    }
    if (c.eat(',') === undefined) break;
  }
  c.expect(')');
  return { kind: 'op', agent, op, args, ...(named.length > 0 ? { named } : {}), span: joinSpans(first.span, c.previousSpan()) };
}

/** A call inside an expression: hoisted into `h`, and the expression reads its answer. */
function hoistCall(call: OpCall, h: Hoisted): VarRef {
  const result = hoistedName(call.span);
  h.push({ ...call, result });
  return { kind: 'var', name: result.name, span: call.span };
}

export function parseExpr(c: TokenCursor, h: Hoisted = []): Expr {
  let value = parseSum(c, h);
  while (c.at('|>')) {
    c.next();
    // `v |> f` is `f(v)` and `v |> f(a)` is `f(v, a)`: the value goes first, as apxm desugars it.
    if (!atCall(c)) {
      const stage = c.expectName('an op or a call after \'|>\'');
      // Spans start at the stage: a hoisted call is named by where it starts, and the value's own call is there already.
      const call: OpCall = { kind: 'op', op: { name: OP_ALIASES[stage.name] ?? stage.name, span: stage.span }, args: [value], span: stage.span };
      value = hoistCall(call, h);
      continue;
    }
    const inner = parseCall(c, h);
    value = hoistCall({ ...inner, args: [value, ...inner.args] }, h);
  }
  return value;
}

function parseSum(c: TokenCursor, h: Hoisted): Expr {
  const first = parsePrimary(c, h);
  if (!c.at('+')) return first;
  const parts: Expr[] = [first];
  while (c.eat('+') !== undefined) parts.push(parsePrimary(c, h));
  const last = parts[parts.length - 1]!;
  return { kind: 'concat', parts, span: joinSpans(first.span, last.span) };
}

const LITERAL_WORDS: Readonly<Record<string, string>> = { true: 'true', false: 'false', null: '' };

function parsePrimary(c: TokenCursor, h: Hoisted): Expr {
  return deeper(c, exprDepth, () => parsePrimaryAt(c, h));
}

function parsePrimaryAt(c: TokenCursor, h: Hoisted): Expr {
  const t = c.peek();
  if (t.kind === 'string') return interpolate(parseStringLit(c, 'a string', false));
  // Every AIS value is text at run time: a number is its digits.
  if (t.kind === 'number') {
    c.next();
    return { kind: 'string', value: t.text, span: t.span };
  }
  if (t.kind === 'ident' && Object.hasOwn(LITERAL_WORDS, t.text)) {
    c.next();
    return { kind: 'string', value: LITERAL_WORDS[t.text]!, span: t.span };
  }
  if (c.at('[')) {
    const open = c.next();
    const items: Expr[] = [];
    while (!c.at(']')) {
      items.push(parseExpr(c, h));
      if (c.eat(',') === undefined) break;
    }
    c.expect(']');
    return { kind: 'list', items, span: joinSpans(open.span, c.previousSpan()) };
  }
  if (c.at('(')) {
    c.next();
    const inner = parseExpr(c, h);
    c.expect(')');
    return inner;
  }
  if (atCall(c)) return hoistCall(parseCall(c, h), h);
  if (t.kind === 'ident' && !KEYWORDS.has(t.text)) {
    c.next();
    return { kind: 'var', name: t.text, span: t.span };
  }
  return c.fail(`expected a string, a number or a variable, found ${describe(t)}`);
}

/** `{{ name }}` inside a string: apxm's interpolation. */
const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

/**
 * `"Double {{n}}"` means `"Double " + n`: a data dependency on `n`, exactly like the
 * concatenation (so the producer of `n` is never dead code). The parts carry the string's
 * span, which is where an unknown name is reported. Escaped braces (`\{`) never open one.
 */
function interpolate(lit: StringLit): Expr {
  const text = (value: string): StringLit => ({ kind: 'string', value: restoreBraces(value), span: lit.span });
  if (!lit.value.includes('{{')) return text(lit.value);
  const parts: Expr[] = [];
  let last = 0;
  for (const m of lit.value.matchAll(PLACEHOLDER)) {
    const at = m.index;
    if (at > last) parts.push(text(lit.value.slice(last, at)));
    parts.push({ kind: 'var', name: m[1]!, span: lit.span });
    last = at + m[0].length;
  }
  if (parts.length === 0) return text(lit.value);
  if (last < lit.value.length) parts.push(text(lit.value.slice(last)));
  return parts.length === 1 ? parts[0]! : { kind: 'concat', parts, span: lit.span };
}

function parseStringLit(c: TokenCursor, what: string, restore = true): StringLit {
  const t = c.peek();
  if (t.kind !== 'string') return c.fail(`expected ${what}, found ${describe(t)}`);
  c.next();
  return { kind: 'string', value: restore ? restoreBraces(t.text) : t.text, span: t.span };
}
