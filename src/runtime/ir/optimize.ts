/**
 * The -O1 pipeline: inline, dce, cse, fuse, in that order, each recorded as a `PassStat`.
 *
 * The order matters: inlining first gives the other passes one graph to see across flow
 * boundaries (a chain that runs from a callee into its caller fuses); DCE before CSE and
 * fusion so dead readers do not block a merge or a fusion; CSE before fusion so two equal
 * asks become one node whose single reader can then absorb it. -O0 runs nothing: the plan
 * is the source, statement for statement.
 */
import { llmRequests, nodeCount } from './count.js';
import { inlineFlows } from './passes/inline.js';
import { dceFlow } from './passes/dce.js';
import { cseFlow } from './passes/cse.js';
import { fuseFlow } from './passes/fuse.js';
import { withHash } from './plan-hash.js';
import type { IrFlow, OptLevel, PassStat, Plan } from './plan.js';

type Flows = Readonly<Record<string, IrFlow>>;

function perFlow(transform: (flow: IrFlow) => IrFlow): (plan: Plan) => Flows {
  return (plan) => Object.fromEntries(Object.entries(plan.flows).map(([name, flow]) => [name, transform(flow)]));
}

export const O1_PASSES: readonly { readonly pass: PassStat['pass']; readonly run: (plan: Plan) => Flows }[] = [
  { pass: 'inline', run: inlineFlows },
  { pass: 'dce', run: perFlow(dceFlow) },
  { pass: 'cse', run: perFlow(cseFlow) },
  { pass: 'fuse', run: perFlow(fuseFlow) },
];

export function optimize(plan: Plan, level: OptLevel): Plan {
  if (level === 'O0') return plan;
  let current = plan;
  for (const { pass, run } of O1_PASSES) {
    const flows = run(current);
    const next = { ...current, flows };
    const stat: PassStat = {
      pass,
      nodesBefore: nodeCount(current),
      nodesAfter: nodeCount(next),
      llmBefore: llmRequests(current),
      llmAfter: llmRequests(next),
    };
    current = { ...next, passes: [...current.passes, stat] };
  }
  return withHash({ ...current, optimization_level: level });
}
