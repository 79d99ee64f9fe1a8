/**
 * AIS parser: tokens → `Program`, recursive descent with panic-mode recovery.
 *
 *   program    = { agent } EOF
 *   agent      = "agent" IDENT "{" { member } "}"
 *   member     = [ "@" "entry" ] flow | capability | tools | memory | context | discoverable
 *              | goals | beliefs | handler
 *   flow       = "flow" IDENT [ "(" [ params ] ")" ] [ "->" IDENT ] block
 *   capability = "capability" IDENT "(" [ params ] ")" [ "->" IDENT ] [ ";" ]
 *   tools      = "tools" ":" "[" [ IDENT { "," IDENT } [","] ] "]" [ ";" | "," ]
 *   memory     = "memory" ( "{" { IDENT ":" IDENT [ "," | ";" ] } "}" | IDENT ":" IDENT ";" )
 *   context    = "context" ":" STRING            discoverable = "discoverable" ":" "[" names "]"
 *   goals      = "goals" "{" { IDENT ( ":" STRING [ "priority" NUMBER | "(" NUMBER ")" ]
 *                                    | "(" [ IDENT ":" value { "," … } ] ")" ) [","|";"] } "}"
 *   beliefs    = "beliefs" "{" { IDENT ( ":" | "=" ) [ "from" ] expr [","|";"] } "}"
 *   handler    = "on" IDENT { "." IDENT } "{" [ IDENT [ ":" IDENT ] { "," … } ] "}" [ "if" "(" cond ")" ] "=>" ( block | expr )
 *   params     = param { "," param } [","]        param = IDENT ":" IDENT
 *
 * `flow main { ... }` (no parameter list, no return type) is the short form apxm accepts.
 * Capabilities, tools and memory live inside an agent: they are that agent's equipment.
 * Statement grammar: see parse-statements.ts.
 */
import type { Agent, Belief, Capability, Flow, Goal, Handler, Memory, MemoryEntry, Name, Param, Program, Statement, StringLit } from './ast.js';
import { joinSpans } from './ast.js';
import type { DiagnosticBag } from './diagnostics.js';
import type { Token } from './lexer.js';
import { restoreBraces } from './lexer.js';
import { parseBlock, parseCondition, parseExpr } from './parse-statements.js';
import { SyntaxAbort, TokenCursor, describe } from './token-cursor.js';

const AGENT_STOPS: ReadonlySet<string> = new Set(['agent']);
const MEMBER_STOPS: ReadonlySet<string> = new Set(['agent', 'flow', 'capability', 'tools', 'memory', '@', 'context', 'discoverable', 'goals', 'beliefs', 'on']);

export function parse(file: string, tokens: readonly Token[], diags: DiagnosticBag): Program {
  const c = new TokenCursor(tokens, diags);
  const agents: Agent[] = [];
  while (c.peek().kind !== 'eof') {
    const before = c.index;
    try {
      if (!c.at('agent')) c.fail(`expected 'agent', found ${describe(c.peek())}`);
      agents.push(parseAgent(c));
    } catch (e) {
      if (!(e instanceof SyntaxAbort)) throw e;
      c.recoverTo(AGENT_STOPS);
      // Only `agent` starts anything at top level: skip to the next one (stray '}' too), so a
      // run of garbage is one error, not one per token.
      while (c.peek().kind !== 'eof' && !c.at('agent')) c.next();
    }
    if (c.index === before) c.next();
  }
  const end = c.peek().span;
  return { kind: 'program', file, agents, span: { line: 1, col: 1, endLine: end.line, endCol: end.col } };
}

function parseAgent(c: TokenCursor): Agent {
  const start = c.next().span;
  const name = c.expectName('an agent name');
  c.expect('{');
  const capabilities: Capability[] = [];
  const tools: Name[] = [];
  const memory: Memory[] = [];
  const flows: Flow[] = [];
  const discoverable: Name[] = [];
  const goals: Goal[] = [];
  const beliefs: Belief[] = [];
  const handlers: Handler[] = [];
  let context: StringLit | undefined;
  for (;;) {
    const t = c.peek();
    if (t.kind === 'eof' || c.at('agent')) {
      // Keep what was parsed: the next agent (or EOF) is a better restart than skipping it.
      c.diags.error(t.span, `expected '}' to close agent "${name.name}", found ${describe(t)}`);
      break;
    }
    if (c.eat('}') !== undefined) break;
    const before = c.index;
    try {
      if (c.at('@') || c.at('flow')) flows.push(parseFlow(c));
      else if (c.at('capability')) capabilities.push(parseCapability(c));
      else if (c.at('tools')) tools.push(...parseTools(c));
      else if (c.at('memory')) memory.push(parseMemory(c));
      else if (c.at('context') && c.at(':', 1)) context = parseContext(c);
      else if (c.at('discoverable') && c.at(':', 1)) discoverable.push(...parseTools(c));
      else if (c.at('goals') && c.at('{', 1)) goals.push(...parseGoals(c));
      else if (c.at('beliefs') && c.at('{', 1)) beliefs.push(...parseBeliefs(c));
      else if (c.at('on')) handlers.push(parseHandler(c));
      else c.fail(`expected 'flow', 'capability', 'tools', 'memory', 'context', 'discoverable', 'goals', 'beliefs' or 'on', found ${describe(t)}`);
    } catch (e) {
      if (!(e instanceof SyntaxAbort)) throw e;
      c.recoverTo(MEMBER_STOPS);
    }
    if (c.index === before) c.next();
  }
  const declarations = { ...(context === undefined ? {} : { context }), discoverable, goals, beliefs, handlers };
  return { kind: 'agent', name, capabilities, tools, memory, flows, declarations, span: joinSpans(start, c.previousSpan()) };
}

function parseFlow(c: TokenCursor): Flow {
  const start = c.peek().span;
  let entry = false;
  if (c.eat('@') !== undefined) {
    const attribute = c.expectName('an attribute name after \'@\'');
    if (attribute.name === 'entry') entry = true;
    else c.diags.error(attribute.span, `unknown attribute @${attribute.name}: only @entry is supported`);
    if (!c.at('flow')) c.fail(`expected 'flow' after @${attribute.name}, found ${describe(c.peek())}`);
  }
  c.expect('flow');
  const name = c.expectName('a flow name');
  const params = c.at('(') ? parseParams(c) : [];
  const returnType = c.eat('->') !== undefined ? c.expectName('a return type') : undefined;
  const body = parseBlock(c, `flow "${name.name}"`);
  return { kind: 'flow', name, entry, params, returnType, body, span: joinSpans(start, c.previousSpan()) };
}

function parseCapability(c: TokenCursor): Capability {
  const start = c.next().span;
  const name = c.expectName('a capability name');
  const params = parseParams(c);
  const returnType = c.eat('->') !== undefined ? c.expectName('a return type') : undefined;
  const end = c.previousSpan();
  c.eat(';');
  return { kind: 'capability', name, params, returnType, span: joinSpans(start, end) };
}

function parseParams(c: TokenCursor): Param[] {
  c.expect('(');
  const params: Param[] = [];
  while (!c.at(')')) {
    const name = c.expectName('a parameter name');
    c.expect(':');
    const type = c.expectName('a parameter type');
    params.push({ kind: 'param', name, type, span: joinSpans(name.span, type.span) });
    if (c.eat(',') === undefined) break;
  }
  c.expect(')');
  return params;
}

function parseTools(c: TokenCursor): Name[] {
  c.next();
  c.expect(':');
  c.expect('[');
  const names: Name[] = [];
  while (!c.at(']')) {
    names.push(c.expectName('a capability name'));
    if (c.eat(',') === undefined) break;
  }
  c.expect(']');
  if (c.eat(';') === undefined) c.eat(',');
  return names;
}

function parseMemory(c: TokenCursor): Memory {
  const start = c.next().span;
  if (!c.at('{')) {
    // `memory notes: LTM;`, one entry.
    const name = c.expectName('a memory name');
    c.expect(':');
    const tier = c.expectName('a memory tier (STM, LTM or EPISODIC)');
    c.eat(';');
    return { kind: 'memory', entries: [{ kind: 'memory_entry', name, tier, span: joinSpans(name.span, tier.span) }], span: joinSpans(start, tier.span) };
  }
  c.expect('{');
  const entries: MemoryEntry[] = [];
  while (!c.at('}')) {
    const name = c.expectName('a memory name');
    c.expect(':');
    const tier = c.expectName('a memory tier (STM, LTM or EPISODIC)');
    entries.push({ kind: 'memory_entry', name, tier, span: joinSpans(name.span, tier.span) });
    if (c.eat(',') === undefined) c.eat(';');
  }
  c.expect('}');
  return { kind: 'memory', entries, span: joinSpans(start, c.previousSpan()) };
}

const ENTRY_STOPS: ReadonlySet<string> = new Set([',']);

/**
 * `keyword { entry, entry; entry }`: the entries of a declaration block, separated by `,` or
 * `;` (or nothing). A bad entry is reported and skipped to the next separator, so the block's
 * `}` still closes it and not the agent.
 */
function declarationBlock<T>(c: TokenCursor, entry: () => T): T[] {
  c.next();
  c.expect('{');
  const out: T[] = [];
  while (!c.at('}') && c.peek().kind !== 'eof') {
    const before = c.index;
    try {
      out.push(entry());
    } catch (e) {
      if (!(e instanceof SyntaxAbort)) throw e;
      c.recoverTo(ENTRY_STOPS);
    }
    if (c.eat(',') === undefined) c.eat(';');
    if (c.index === before) c.next();
  }
  c.expect('}');
  return out;
}

function parseContext(c: TokenCursor): StringLit {
  c.next();
  c.expect(':');
  const span = c.peek().span;
  const value = expectString(c, 'the agent\'s context as a string');
  if (c.eat(';') === undefined) c.eat(',');
  return { kind: 'string', value, span };
}

function expectNumber(c: TokenCursor, what: string): number {
  const t = c.peek();
  if (t.kind !== 'number') return c.fail(`expected ${what}, found ${describe(t)}`);
  c.next();
  return Number(t.text);
}

function expectString(c: TokenCursor, what: string): string {
  const t = c.peek();
  if (t.kind !== 'string') return c.fail(`expected ${what}, found ${describe(t)}`);
  c.next();
  return restoreBraces(t.text);
}

/** apxm's goal forms: `name: "…" priority 2`, `name: "…" (2)`, `name(priority: 2, description: "…")`, `name(2)`. */
function parseGoals(c: TokenCursor): Goal[] {
  return declarationBlock(c, (): Goal => {
    const name = c.expectName('a goal name');
    let description = '';
    let priority: number | undefined;
    if (c.eat(':') !== undefined) {
      description = expectString(c, 'the goal\'s description');
      if (c.eat('priority') !== undefined) {
        priority = expectNumber(c, 'a numeric priority');
      } else if (c.eat('(') !== undefined) {
        priority = expectNumber(c, 'a numeric priority');
        c.expect(')');
      }
    } else if (c.eat('(') !== undefined) {
      if (c.peek().kind === 'number') priority = expectNumber(c, 'a numeric priority');
      else {
        while (!c.at(')')) {
          const key = c.expectName('priority or description');
          c.expect(':');
          if (key.name.toLowerCase() === 'priority') priority = expectNumber(c, 'a numeric priority');
          else if (key.name.toLowerCase() === 'description') description = expectString(c, 'a description string');
          else c.fail(`unknown goal attribute "${key.name}": expected priority or description`, key.span);
          if (c.eat(',') === undefined) break;
        }
      }
      c.expect(')');
    } else {
      c.fail(`expected ':' or '(' after goal "${name.name}", found ${describe(c.peek())}`);
    }
    return { name, description, ...(priority === undefined ? {} : { priority }), span: joinSpans(name.span, c.previousSpan()) };
  });
}

/** `beliefs { name: value }` (or `name = value`, `name: from value`): the value as written. */
function parseBeliefs(c: TokenCursor): Belief[] {
  return declarationBlock(c, (): Belief => {
    const name = c.expectName('a belief name');
    if (c.eat(':') === undefined) c.expect('=');
    c.eat('from');
    const t = c.peek();
    if (t.kind !== 'string' && t.kind !== 'number' && t.kind !== 'ident') c.fail(`expected the belief's value, found ${describe(t)}`);
    c.next();
    return { name, value: t.kind === 'string' ? restoreBraces(t.text) : t.text, span: joinSpans(name.span, t.span) };
  });
}

/** `on Message { a, b: str } if (cond) => { … }`; a body that is an expression returns it. */
function parseHandler(c: TokenCursor): Handler {
  const start = c.next().span;
  const first = c.expectName('an event type after on');
  let event = first;
  while (c.eat('.') !== undefined) {
    const part = c.expectName('a name after \'.\'');
    event = { name: `${event.name}.${part.name}`, span: joinSpans(first.span, part.span) };
  }
  c.expect('{');
  const params: Param[] = [];
  while (!c.at('}')) {
    const name = c.expectName('a field name');
    const type: Name = c.eat(':') !== undefined ? c.expectName('a field type') : { name: 'token', span: name.span };
    params.push({ kind: 'param', name, type, span: joinSpans(name.span, type.span) });
    if (c.eat(',') === undefined) c.eat(';');
  }
  c.expect('}');
  let guard;
  if (c.eat('if') !== undefined) {
    c.expect('(');
    guard = parseCondition(c);
    c.expect(')');
  }
  c.expect('=>');
  let body: Statement[];
  if (c.at('{')) body = parseBlock(c, `the handler of ${event.name}`);
  else {
    const hoisted: Statement[] = [];
    const value = parseExpr(c, hoisted);
    body = [...hoisted, { kind: 'return', value, span: value.span }];
    c.eat(';');
  }
  return { event, params, ...(guard === undefined ? {} : { guard }), body, span: joinSpans(start, c.previousSpan()) };
}
