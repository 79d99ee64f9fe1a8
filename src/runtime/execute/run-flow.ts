/**
 * Runs one flow's graph and computes its return value.
 *
 * A flow fails when a node failed and no `switch` default stood in for it: its error is the
 * first such node's own error (not a DependencyFailedError of something downstream), named
 * by the node's label. A failed node whose default succeeded is rescued: it still counts in
 * `nodes_failed`, but the flow goes on with the default's answer.
 */
import type { Arg, IrFlow } from '../ir/plan.js';
import { DependencyFailedError, runGraph } from '../scheduler/index.js';
import type { GraphResult } from '../scheduler/index.js';
import type { ExecEnv } from './env.js';
import { flowGraph } from './flow-graph.js';
import { Returned, asText, renderArg } from './prompt.js';

/** A node of the workflow failed; `cause` is the node's own error. */
export class WorkflowNodeError extends Error {
  override readonly name = 'WorkflowNodeError';
  constructor(
    readonly node: string,
    cause: unknown,
  ) {
    super(`${node}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

export interface FlowRun {
  readonly result: GraphResult;
  readonly output: string;
  /** Whether the flow reached a `return` (its own, or one inside a block it ran). */
  readonly returned: boolean;
}


export async function runFlow(env: ExecEnv, flow: IrFlow, params: Readonly<Record<string, string>>, signal: AbortSignal): Promise<FlowRun> {
  const result = await runGraph(flowGraph(env, flow, params), { ...env.graph, clock: env.clock, signal });
  env.counts.nodesFailed += result.failed.length;
  if (result.aborted) throw result.abortReason;
  const rescuedBy = fallbacks(flow);
  const unrescued = unrescuedFailures(rescuedBy, result);
  if (unrescued.length > 0) {
    const own = unrescued.find((id) => !(result.errors.get(id) instanceof DependencyFailedError)) ?? unrescued[0]!;
    const cause = result.errors.get(own);
    // A nested flow's failure is already named by its innermost node.
    throw cause instanceof WorkflowNodeError ? cause : new WorkflowNodeError(flow.nodes[own]!.label, cause);
  }
  for (const id of flow.returnsFrom ?? []) {
    const value = result.outputs[id];
    if (value instanceof Returned) return { result, output: value.text, returned: true };
  }
  return { result, output: flow.output === null ? '' : renderOutput(flow.output, result, rescuedBy, params), returned: flow.output !== null };
}

/** Switch node id → its default's node id. */
export function fallbacks(flow: IrFlow): ReadonlyMap<number, number> {
  const rescuedBy = new Map<number, number>();
  for (const node of flow.nodes) if (node.fallbackFor !== undefined) rescuedBy.set(node.fallbackFor, node.id);
  return rescuedBy;
}

/** Failed nodes whose switch default did not produce an answer in their place. */
export function unrescuedFailures(rescuedBy: ReadonlyMap<number, number>, result: GraphResult): number[] {
  return result.failed.filter((id) => {
    const fallback = rescuedBy.get(id);
    return fallback === undefined || result.outputs[fallback] === undefined;
  });
}

function renderOutput(output: Arg, result: GraphResult, rescuedBy: ReadonlyMap<number, number>, params: Readonly<Record<string, string>>): string {
  return renderArg(output, {
    // A switch that failed over to its default answers with the default's output.
    ref: (id) => asText(result.outputs[id] ?? result.outputs[rescuedBy.get(id) ?? -1]),
    param: (name) => params[name] ?? '',
  });
}
