/**
 * AIS parser: tokens → `Program`, recursive descent with panic-mode recovery.
 *
 *   program    = { agent } EOF
 *   agent      = "agent" IDENT "{" { member } "}"
 *   member     = [ "@" "entry" ] flow | capability | tools | memory
 *   flow       = "flow" IDENT [ "(" [ params ] ")" ] [ "->" IDENT ] block
 *   capability = "capability" IDENT "(" [ params ] ")" [ "->" IDENT ] [ ";" ]
 *   tools      = "tools" ":" "[" [ IDENT { "," IDENT } [","] ] "]" [ ";" | "," ]
 *   memory     = "memory" "{" { IDENT ":" IDENT [ "," | ";" ] } "}"
 *   params     = param { "," param } [","]        param = IDENT ":" IDENT
 *
 * `flow main { ... }` (no parameter list, no return type) is the short form apxm accepts.
 * Capabilities, tools and memory live inside an agent: they are that agent's equipment.
 * Statement grammar: see parse-statements.ts.
 */
import type { Agent, Capability, Flow, Memory, MemoryEntry, Name, Param, Program } from './ast.js';
import { joinSpans } from './ast.js';
import type { DiagnosticBag } from './diagnostics.js';
import type { Token } from './lexer.js';
import { parseBlock } from './parse-statements.js';
import { SyntaxAbort, TokenCursor, describe } from './token-cursor.js';

const AGENT_STOPS: ReadonlySet<string> = new Set(['agent']);
const MEMBER_STOPS: ReadonlySet<string> = new Set(['agent', 'flow', 'capability', 'tools', 'memory', '@']);

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
      else c.fail(`expected 'flow', 'capability', 'tools' or 'memory', found ${describe(t)}`);
    } catch (e) {
      if (!(e instanceof SyntaxAbort)) throw e;
      c.recoverTo(MEMBER_STOPS);
    }
    if (c.index === before) c.next();
  }
  return { kind: 'agent', name, capabilities, tools, memory, flows, span: joinSpans(start, c.previousSpan()) };
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
  const body = parseBlock(c, name.name);
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
