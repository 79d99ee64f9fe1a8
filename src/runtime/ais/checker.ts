/**
 * AIS checker: a parsed `Program` → `CheckedProgram`, or diagnostics.
 *
 * Decisions where apxm's language is silent (documented here so the runtime can rely on them):
 * - `capability`, `tools:` and `memory` appear inside an agent and belong to it.
 * - A bare call `name(args)` that is not a built-in op or a flow of the agent is a tool call.
 *   A declared capability (`capability name(p: str) -> str;`) must be listed in the agent's
 *   `tools: [...]` and called with its arity. An undeclared name is a tool invocation, as
 *   apxm lowers it: its arguments are `input`, `arg1`, …, and the tool registry decides at
 *   run time (a dry run simulates a missing tool with a warning; a live run refuses to start).
 *   `inv("tool", "{json}")` is dynamic dispatch and is not checked against `tools:`.
 * - Flows are called `Agent.flow(args)`, or `flow(args)` within the same agent as apxm writes
 *   it: a bare name that is a flow of the calling agent and not one of its capabilities is
 *   that flow (a declared capability of the same name wins). Arity must match.
 * - A cycle is a flow that reaches itself through flow calls (A.f → B.g → A.f, or A.f → A.f).
 * - One flow is the entry; its parameters come from `--input name=value`. It is the flow
 *   marked `@entry` (an agent has at most one; when several agents mark one, as apxm's
 *   multi-agent files do, the first in the file runs and the others are what a message to
 *   their agent runs), or, when none is marked, the program's only flow, or else the only
 *   flow of the only agent that has a single flow (apxm's files rely on both), or else the
 *   only flow named `main`. No way to tell is an error, reported only when nothing else is.
 * - `communicate("Agent", protocol, message)` (or `recipient:`, `protocol:`, `message:`) to
 *   an agent of the program runs, in process, that agent's `on Message` handler, else its
 *   @entry flow, else its only flow, else its only handler, with the message as the first
 *   parameter: it is rewritten to `Agent.flow(message)` (a handler is the flow `on Message`,
 *   its guard an `if` around its body). To any other recipient it is a tool call named
 *   `communicate` (simulated in a dry run).
 * - Agent-level declarations (`context:`, `discoverable:`, `goals`, `beliefs`) are checked
 *   and kept in the plan; handler bodies are checked like flows.
 * - Memory spaces in `qmem`/`umem` are string literals: "stm", "ltm", "episodic" (any case)
 *   or a name declared in the agent's `memory { name: TIER }` block. Tiers: STM/LTM/EPISODIC.
 * - Parameter and type names are not checked: every AIS value is a string at run time.
 * - Unused parameters are fine (an entry's inputs are the caller's choice); unused results warn.
 */
import type { Agent, Expr, Flow, Name, OpCall, Program } from './ast.js';
import { forEachCall } from './ast.js';
import { isBuiltinOp } from './ops.js';
import { checkCycles } from './check-cycles.js';
import { checkFlow, checkHandler } from './check-flow.js';
import type { DiagnosticBag } from './diagnostics.js';
import type { AgentIndex, CallEdge } from './program-index.js';
import { buildIndex } from './program-index.js';

export interface EntryPoint {
  readonly agent: Agent;
  readonly flow: Flow;
}

/** A program that passed the checker: no errors (warnings allowed) and one entry flow. */
export interface CheckedProgram {
  readonly program: Program;
  readonly entry: EntryPoint;
}

/** Appends every semantic diagnostic to `diags`; returns the program when it has no errors. */
export function check(program: Program, diags: DiagnosticBag): CheckedProgram | undefined {
  const errorsBefore = diags.errorCount;
  const index = buildIndex(program, diags);
  resolveLocalFlowCalls(index, diags);
  const edges: CallEdge[] = [];
  const entries: EntryPoint[] = [];
  for (const agentIndex of index.agents.values()) {
    let agentEntry: Flow | undefined;
    for (const flow of agentIndex.flows.values()) {
      if (flow.entry) {
        if (agentEntry === undefined) {
          agentEntry = flow;
          entries.push({ agent: agentIndex.agent, flow });
        } else diags.error(flow.name.span, `more than one @entry flow in agent "${agentIndex.agent.name.name}": ${agentEntry.name.name} is already its entry`);
      }
      checkFlow(flow, { diags, index, agent: agentIndex, edges });
    }
    for (const handler of agentIndex.agent.declarations.handlers) checkHandler(handler, { diags, index, agent: agentIndex, edges });
  }
  checkCycles(edges, diags);

  if (entries.length === 0) {
    const implicit = implicitEntry(index);
    if (implicit !== undefined) entries.push(implicit);
    // The missing entry is worth saying only when it is the file's one problem.
    else if (diags.errorCount === errorsBefore) {
      const flows = [...index.agents.values()].flatMap((a) => [...a.flows.keys()].map((f) => `${a.agent.name.name}.${f}`));
      const which = flows.length === 0 ? '' : ` (one of ${flows.slice(0, 5).join(', ')}${flows.length > 5 ? ', …' : ''})`;
      diags.error({ line: 1, col: 1, endLine: 1, endCol: 2 }, `no @entry flow: mark the flow to run with @entry${which}`);
    }
  }
  const [entry] = entries;
  const errorsAfter = diags.errorCount;
  return entry !== undefined && errorsAfter === errorsBefore ? { program, entry } : undefined;
}

type Index = ReturnType<typeof buildIndex>;

/** The flow that runs when none is marked `@entry`: the only flow, the only single-flow agent's flow, or the only `main`. */
function implicitEntry(index: Index): EntryPoint | undefined {
  const all = [...index.agents.values()].flatMap((a) => [...a.flows.values()].map((flow) => ({ agent: a.agent, flow, single: a.flows.size === 1 })));
  if (all.length === 1) return all[0];
  const singles = all.filter((e) => e.single);
  if (singles.length === 1) return singles[0];
  const mains = all.filter((e) => e.flow.name.name === 'main');
  return mains.length === 1 ? mains[0] : undefined;
}

/** What a message to `agent` runs: its `on Message` handler, else its @entry flow, else its only flow, else its only handler. */
export function messageTarget(agent: AgentIndex): Flow | undefined {
  const flows = [...agent.flows.values()];
  const handlers = [...agent.handlers.values()];
  return agent.handlers.get('on Message') ?? flows.find((f) => f.entry) ?? (flows.length === 1 ? flows[0] : undefined) ?? (handlers.length === 1 ? handlers[0] : undefined);
}

/**
 * Rewrites, in place, what a call names once the program's names are known:
 * - `helper(t)` inside agent A, where `helper` is a flow of A and not a capability: `A.helper(t)`;
 * - `communicate("B", protocol, message)` where B is an agent of the program: `B.flow(message)`.
 */
function resolveLocalFlowCalls(index: Index, diags: DiagnosticBag): void {
  for (const a of index.agents.values()) {
    const qualify = (call: OpCall): void => {
      const name = call.op.name;
      if (call.agent !== undefined) return;
      if (name === 'communicate') {
        resolveCommunicate(call, index, diags);
        return;
      }
      if (isBuiltinOp(name) || a.capabilities.has(name) || !a.flows.has(name)) return;
      const agent: Name = { name: a.agent.name.name, span: call.op.span };
      (call as { agent?: Name }).agent = agent;
    };
    for (const flow of a.flows.values()) forEachCall(flow.body, qualify);
    for (const handler of a.agent.declarations.handlers) forEachCall(handler.body, qualify);
  }
}

function resolveCommunicate(call: OpCall, index: Index, diags: DiagnosticBag): void {
  const named = new Map((call.named ?? []).map((n) => [n.name.name, n.value] as const));
  const recipient: Expr | undefined = named.get('recipient') ?? call.args[0];
  if (recipient?.kind !== 'string') return;
  const agent = index.agents.get(recipient.value);
  if (agent === undefined) return;
  const target = messageTarget(agent);
  if (target === undefined) {
    diags.error(recipient.span, `agent "${recipient.value}" has nothing a message can run: give it an on Message handler or an @entry flow`);
    return;
  }
  // communicate(recipient, protocol, message) or communicate(recipient, message).
  const rest = named.has('recipient') ? call.args : call.args.slice(1);
  const message: Expr | undefined = named.get('message') ?? (rest.length >= 2 ? rest[1] : rest[0]);
  // The message is the first parameter (a handler's first field); the others are empty.
  const empty = (): Expr => ({ kind: 'string', value: '', span: call.span });
  const args = target.params.map((_, i) => (i === 0 && message !== undefined ? message : empty()));
  const rewritten = call as { agent?: Name; op: Name; args: readonly Expr[]; named?: unknown };
  rewritten.agent = { name: recipient.value, span: recipient.span };
  rewritten.op = { name: target.name.name, span: call.op.span };
  rewritten.args = args;
  delete rewritten.named;
}
