/**
 * Flow bodies: statements and expressions.
 *
 *   block     = "{" { statement [";"] } "}"
 *   statement = "return" expr
 *             | "let" IDENT "=" ( call | expr )
 *             | "switch" IDENT "{" { "case" STRING "=>" call } [ "default" "=>" call ] "}" [ "->" IDENT ]
 *             | call [ "->" IDENT ]
 *   call      = IDENT [ "." IDENT ] "(" [ arg { "," arg } [","] ] ")"
 *   arg       = [ IDENT ":" ] expr
 *   expr      = primary { "+" primary }
 *   primary   = STRING | NUMBER | IDENT
 */
import type { Expr, Name, NamedArg, OpCall, Return, Statement, StringLit, Switch, SwitchCase } from './ast.js';
import { joinSpans } from './ast.js';
import type { TokenCursor } from './token-cursor.js';
import { KEYWORDS, SyntaxAbort, describe } from './token-cursor.js';

const STATEMENT_STOPS: ReadonlySet<string> = new Set(['return', 'switch', 'let']);
const CASE_STOPS: ReadonlySet<string> = new Set(['case', 'default']);
/** Declarations that cannot appear in a body: meeting one means the body's `}` is missing. */
const DECLARATION_STARTS: ReadonlySet<string> = new Set(['agent', 'flow', 'capability', 'tools', 'memory', '@']);

/** Parses `{ statements }`; `owner` names the flow in a missing-brace error. */
export function parseBlock(c: TokenCursor, owner: string): Statement[] {
  c.expect('{');
  const body: Statement[] = [];
  for (;;) {
    const t = c.peek();
    if (t.kind === 'eof') {
      c.diags.error(t.span, `expected '}' to close flow "${owner}", found end of file`);
      return body;
    }
    if (c.at('}')) {
      c.next();
      return body;
    }
    if ((t.kind === 'ident' && DECLARATION_STARTS.has(t.text)) || c.at('@')) {
      // Do not consume: the declaration belongs to the enclosing agent or file.
      c.diags.error(t.span, `expected '}' to close flow "${owner}", found ${describe(t)}`);
      return body;
    }
    const before = c.index;
    try {
      const parsed = parseStatement(c);
      if (Array.isArray(parsed)) body.push(...parsed);
      else body.push(parsed);
      c.eat(';');
    } catch (e) {
      if (!(e instanceof SyntaxAbort)) throw e;
      c.recoverTo(STATEMENT_STOPS, t.span.line);
    }
    if (c.index === before) c.next();
  }
}

function parseStatement(c: TokenCursor): Statement | Statement[] {
  if (c.at('return')) return parseReturn(c);
  if (c.at('switch')) return parseSwitch(c);
  if (c.at('let')) return parseLet(c);
  const call = parseCall(c);
  const result = parseResult(c);
  return result === undefined ? call : { ...call, result, span: joinSpans(call.span, result.span) };
}

/** True when a call starts here: `name(` or `Agent.flow(`. */
function atCall(c: TokenCursor): boolean {
  const t = c.peek();
  return t.kind === 'ident' && !KEYWORDS.has(t.text) && (c.at('(', 1) || (c.at('.', 1) && c.at('(', 3)));
}

/** `return expr`, or `return ask("…")` as apxm writes it: the call, then the return of its answer. */
function parseReturn(c: TokenCursor): Return | [OpCall, Return] {
  const start = c.next().span;
  if (atCall(c)) {
    const call = parseCall(c);
    const result: Name = { name: `return@${call.span.line}:${call.span.col}`, span: call.span };
    return [{ ...call, result }, { kind: 'return', value: { kind: 'var', name: result.name, span: call.span }, span: joinSpans(start, call.span) }];
  }
  const value = parseExpr(c);
  return { kind: 'return', value, span: joinSpans(start, value.span) };
}

function parseResult(c: TokenCursor): Name | undefined {
  if (c.eat('->') === undefined) return undefined;
  return c.expectName('a variable name after \'->\'');
}

function parseSwitch(c: TokenCursor): Switch {
  const start = c.next().span;
  const subjectName = c.expectName('a variable to switch on');
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
    } catch (e) {
      if (!(e instanceof SyntaxAbort)) throw e;
      c.recoverTo(CASE_STOPS, line);
    }
    if (c.index === before) c.next();
  }
  c.expect('}');
  const result = parseResult(c);
  const subject = { kind: 'var', name: subjectName.name, span: subjectName.span } as const;
  const end = result?.span ?? c.previousSpan();
  return { kind: 'switch', subject, cases, default: fallback, result, span: joinSpans(start, end) };
}

/**
 * `let x = ask("…")` is `ask("…") -> x`; `let x = "a " + y` binds a value, lowered as a
 * one-input `merge` (a pure node that passes its input on).
 */
function parseLet(c: TokenCursor): OpCall {
  const start = c.next().span;
  const name = c.expectName('a name after let');
  c.expect('=');
  if (atCall(c)) {
    const call = parseCall(c);
    return { ...call, result: name, span: joinSpans(start, call.span) };
  }
  const value = parseExpr(c);
  return { kind: 'op', op: { name: 'merge', span: start }, args: [value], result: name, span: joinSpans(start, value.span) };
}

function parseCaseCall(c: TokenCursor): OpCall {
  const call = parseCall(c);
  if (c.at('->')) {
    c.fail('a case cannot bind a result: write `} -> name` after the switch instead');
  }
  return call;
}

/** apxm's other names for built-in ops. */
const OP_ALIASES: Readonly<Record<string, string>> = { llm: 'ask', wait_all: 'merge', wait: 'merge', tool: 'inv', invoke: 'inv', query_memory: 'qmem', update_memory: 'umem' };

function parseCall(c: TokenCursor): OpCall {
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
      const value = parseExpr(c);
      named.push({ name, value, span: joinSpans(name.span, value.span) });
    } else {
      args.push(parseExpr(c));
    }
    if (c.eat(',') === undefined) break;
  }
  c.expect(')');
  return { kind: 'op', agent, op, args, ...(named.length > 0 ? { named } : {}), span: joinSpans(first.span, c.previousSpan()) };
}

export function parseExpr(c: TokenCursor): Expr {
  const first = parsePrimary(c);
  if (!c.at('+')) return first;
  const parts: Expr[] = [first];
  while (c.eat('+') !== undefined) parts.push(parsePrimary(c));
  const last = parts[parts.length - 1]!;
  return { kind: 'concat', parts, span: joinSpans(first.span, last.span) };
}

function parsePrimary(c: TokenCursor): Expr {
  const t = c.peek();
  if (t.kind === 'string') return interpolate(parseStringLit(c, 'a string'));
  // Every AIS value is text at run time: a number is its digits.
  if (t.kind === 'number') {
    c.next();
    return { kind: 'string', value: t.text, span: t.span };
  }
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
 * span, which is where an unknown name is reported.
 */
function interpolate(lit: StringLit): Expr {
  if (!lit.value.includes('{{')) return lit;
  const parts: Expr[] = [];
  let last = 0;
  for (const m of lit.value.matchAll(PLACEHOLDER)) {
    const at = m.index;
    if (at > last) parts.push({ kind: 'string', value: lit.value.slice(last, at), span: lit.span });
    parts.push({ kind: 'var', name: m[1]!, span: lit.span });
    last = at + m[0].length;
  }
  if (parts.length === 0) return lit;
  if (last < lit.value.length) parts.push({ kind: 'string', value: lit.value.slice(last), span: lit.span });
  return parts.length === 1 ? parts[0]! : { kind: 'concat', parts, span: lit.span };
}

function parseStringLit(c: TokenCursor, what: string): StringLit {
  const t = c.peek();
  if (t.kind !== 'string') return c.fail(`expected ${what}, found ${describe(t)}`);
  c.next();
  return { kind: 'string', value: t.text, span: t.span };
}
