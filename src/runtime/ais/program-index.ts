/**
 * Name tables for a program: agents, and per agent its flows, capabilities, tools and memory.
 *
 * Building the tables is where declaration-level mistakes surface: duplicate names, a tools
 * entry that is not a declared capability, a capability that shadows a built-in op, a memory
 * tier that apxm does not have. The first declaration of a name wins, so later checks still
 * resolve calls against it.
 */
import type { Agent, Capability, Flow, MemoryEntry, Program, Span } from './ast.js';
import { handlerFlow } from './ast.js';
import type { DiagnosticBag } from './diagnostics.js';
import { isBuiltinOp, isMemorySpace } from './ops.js';

export interface AgentIndex {
  readonly agent: Agent;
  readonly flows: ReadonlyMap<string, Flow>;
  /** The agent's handlers as flows (`handlerFlow`), by their names (`on Message`). */
  readonly handlers: ReadonlyMap<string, Flow>;
  readonly capabilities: ReadonlyMap<string, Capability>;
  readonly tools: ReadonlySet<string>;
  readonly memory: ReadonlyMap<string, MemoryEntry>;
}

export interface ProgramIndex {
  readonly agents: ReadonlyMap<string, AgentIndex>;
}

/** A cross-agent call `from` → `to` (both `Agent.flow`), at `span` in the caller. */
export interface CallEdge {
  readonly from: string;
  readonly to: string;
  readonly span: Span;
}

function firstWins<T>(
  items: readonly T[],
  nameOf: (item: T) => { name: string; span: Span },
  what: string,
  diags: DiagnosticBag,
): Map<string, T> {
  const map = new Map<string, T>();
  for (const item of items) {
    const { name, span } = nameOf(item);
    if (map.has(name)) diags.error(span, `duplicate ${what} "${name}"`);
    else map.set(name, item);
  }
  return map;
}

export function buildIndex(program: Program, diags: DiagnosticBag): ProgramIndex {
  const agents = new Map<string, AgentIndex>();
  for (const [name, agent] of firstWins(program.agents, (a) => a.name, 'agent', diags)) {
    agents.set(name, indexAgent(agent, diags));
  }
  return { agents };
}

function indexAgent(agent: Agent, diags: DiagnosticBag): AgentIndex {
  const flows = firstWins(agent.flows, (f) => f.name, 'flow', diags);
  const capabilities = firstWins(agent.capabilities, (c) => c.name, 'capability', diags);
  for (const c of agent.capabilities) {
    if (isBuiltinOp(c.name.name)) {
      diags.error(c.name.span, `capability "${c.name.name}" has the name of a built-in op; rename it`);
    }
  }
  const tools = new Set<string>();
  for (const t of agent.tools) {
    if (!capabilities.has(t.name)) {
      diags.error(t.span, `tools: "${t.name}" is not a declared capability of agent "${agent.name.name}"`);
    }
    tools.add(t.name);
  }
  const entries = agent.memory.flatMap((m) => m.entries);
  const memory = firstWins(entries, (e) => e.name, 'memory', diags);
  for (const e of entries) {
    if (!isMemorySpace(e.tier.name.toLowerCase())) {
      diags.error(e.tier.span, `unknown memory tier "${e.tier.name}": expected STM, LTM or EPISODIC`);
    }
  }
  const handlers = firstWins(agent.declarations.handlers.map(handlerFlow), (f) => f.name, 'handler', diags);
  return { agent, flows, handlers, capabilities, tools, memory };
}
