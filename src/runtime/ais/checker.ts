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
 *   marked `@entry`, or, when none is marked, the program's only flow, or else the only flow
 *   of the only agent that has a single flow (apxm's files rely on both), or else the only
 *   flow named `main`. Repeated `@entry`,
 *   or no way to tell, is an error; "no entry" is reported only when nothing else is wrong.
 * - Memory spaces in `qmem`/`umem` are string literals: "stm", "ltm", "episodic" (any case)
 *   or a name declared in the agent's `memory { name: TIER }` block. Tiers: STM/LTM/EPISODIC.
 * - Parameter and type names are not checked: every AIS value is a string at run time.
 * - Unused parameters are fine (an entry's inputs are the caller's choice); unused results warn.
 */
import type { Agent, Flow, Name, OpCall, Program } from './ast.js';
import { isBuiltinOp } from './ops.js';
import { checkCycles } from './check-cycles.js';
import { checkFlow } from './check-flow.js';
import type { DiagnosticBag } from './diagnostics.js';
import type { CallEdge } from './program-index.js';
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
  resolveLocalFlowCalls(index);
  const edges: CallEdge[] = [];
  const entries: EntryPoint[] = [];
  for (const agentIndex of index.agents.values()) {
    for (const flow of agentIndex.flows.values()) {
      if (flow.entry) entries.push({ agent: agentIndex.agent, flow });
      checkFlow(flow, { diags, index, agent: agentIndex, edges });
    }
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
  const [entry, ...extra] = entries;
  for (const e of extra) {
    diags.error(e.flow.name.span, `more than one @entry flow: ${entry!.agent.name.name}.${entry!.flow.name.name} is already the entry`);
  }
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

/** `helper(t)` inside agent A, where `helper` is a flow of A and not a capability: `A.helper(t)`. */
function resolveLocalFlowCalls(index: Index): void {
  for (const a of index.agents.values()) {
    const qualify = (call: OpCall): void => {
      const name = call.op.name;
      if (call.agent !== undefined || isBuiltinOp(name) || a.capabilities.has(name) || !a.flows.has(name)) return;
      const agent: Name = { name: a.agent.name.name, span: call.op.span };
      (call as { agent?: Name }).agent = agent;
    };
    for (const flow of a.flows.values()) {
      for (const stmt of flow.body) {
        if (stmt.kind === 'op') qualify(stmt);
        else if (stmt.kind === 'switch') {
          for (const c of stmt.cases) qualify(c.call);
          if (stmt.default !== undefined) qualify(stmt.default);
        }
      }
    }
  }
}
