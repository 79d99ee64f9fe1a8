/**
 * AIS checker: a parsed `Program` → `CheckedProgram`, or diagnostics.
 *
 * Decisions where apxm's language is silent (documented here so the runtime can rely on them):
 * - `capability`, `tools:` and `memory` appear inside an agent and belong to it.
 * - A bare call `name(args)` that is not a built-in op is a capability call. The capability
 *   must be declared (`capability name(p: str) -> str;`) AND listed in the agent's
 *   `tools: [...]`: the declaration gives the signature, the list grants permission, and
 *   apxm's agents only call tools they were given. Arity must match the declaration.
 *   `inv("tool", "{json}")` is dynamic dispatch and is not checked against `tools:`.
 * - Flows are called only qualified, `Agent.flow(args)`, also within the same agent, so a
 *   call is never ambiguous between a flow and a capability. Arity must match.
 * - A cycle is a flow that reaches itself through flow calls (A.f → B.g → A.f, or A.f → A.f).
 * - Exactly one flow in the program is marked `@entry`; its parameters come from
 *   `--input name=value`. Missing or repeated `@entry` is an error.
 * - Memory spaces in `qmem`/`umem` are string literals: "stm", "ltm", "episodic" (any case)
 *   or a name declared in the agent's `memory { name: TIER }` block. Tiers: STM/LTM/EPISODIC.
 * - Parameter and type names are not checked: every AIS value is a string at run time.
 * - Unused parameters are fine (an entry's inputs are the caller's choice); unused results warn.
 */
import type { Agent, Flow, Program } from './ast.js';
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
  const edges: CallEdge[] = [];
  const entries: EntryPoint[] = [];
  for (const agentIndex of index.agents.values()) {
    for (const flow of agentIndex.flows.values()) {
      if (flow.entry) entries.push({ agent: agentIndex.agent, flow });
      checkFlow(flow, { diags, index, agent: agentIndex, edges });
    }
  }
  checkCycles(edges, diags);

  const [entry, ...extra] = entries;
  if (entry === undefined) {
    diags.error({ line: 1, col: 1, endLine: 1, endCol: 2 }, 'no @entry flow: mark the flow to run with @entry');
  }
  for (const e of extra) {
    diags.error(e.flow.name.span, `more than one @entry flow: ${entry!.agent.name.name}.${entry!.flow.name.name} is already the entry`);
  }
  const errorsAfter = diags.errorCount;
  return entry !== undefined && errorsAfter === errorsBefore ? { program, entry } : undefined;
}
