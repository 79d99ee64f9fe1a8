/**
 * `flowmeter compile --emit`: a plan as readable IR text, Graphviz dot, Mermaid or JSON.
 *
 * Every format is deterministic (same plan, same bytes): flows come entry first, then by
 * name; nodes by id. The IR text is one line per node,
 *   `%3 = ask "..." + %1 [after %2] ; Writer.main:ask->x @ 4:5`
 * with `[default of %n]` on a switch's default and `[effect]` on nodes DCE must keep, then
 * the pass statistics and the checker's warnings as `;` comments.
 */
import { serializePlan } from './artifact.js';
import { renderDot, renderMermaid } from './emit-graph.js';
import type { IrNode, Plan } from './plan.js';
import { flowsInOrder, renderArg, renderOp } from './render-op.js';

export const EMIT_FORMATS = ['ir', 'dot', 'mermaid', 'json'] as const;
export type EmitFormat = (typeof EMIT_FORMATS)[number];

export function isEmitFormat(value: string): value is EmitFormat {
  return (EMIT_FORMATS as readonly string[]).includes(value);
}

function renderNode(n: IrNode): string {
  const notes = [
    n.after.length > 0 ? ` [after ${n.after.map((a) => `%${a}`).join(', ')}]` : '',
    n.fallbackFor !== undefined ? ` [default of %${n.fallbackFor}]` : '',
    n.effect ? ' [effect]' : '',
  ].join('');
  return `  %${n.id} = ${renderOp(n.op)}${notes} ; ${n.label} @ ${n.pos.line}:${n.pos.col}`;
}

export function renderIrText(plan: Plan): string {
  const lines = [
    `; flowmeter plan ${plan.format} of ${plan.source.file} at -${plan.optimization_level}`,
    `; compiler ${plan.compiler}, source sha256 ${plan.source.sha256}`,
    `; plan hash ${plan.hash}`,
  ];
  for (const flow of flowsInOrder(plan)) {
    lines.push('', `${flow.name === plan.entry ? '@entry ' : ''}flow ${flow.name}(${flow.params.join(', ')}) {`);
    lines.push(...flow.nodes.map(renderNode));
    if (flow.returnsFrom !== undefined) lines.push(`  ; returns from a block of ${flow.returnsFrom.map((id) => `%${id}`).join(', ')} when one does`);
    lines.push(flow.output === null ? '  return none' : `  return ${renderArg(flow.output)}`, '}');
  }
  for (const [agent, d] of Object.entries(plan.agents ?? {})) {
    lines.push('', `; agent ${agent}`);
    if (d.context !== undefined) lines.push(`;   context ${JSON.stringify(d.context)}`);
    if (d.discoverable !== undefined) lines.push(`;   discoverable ${d.discoverable.join(', ')}`);
    for (const g of d.goals ?? []) lines.push(`;   goal ${g.name ?? ''}${g.name === undefined ? '' : ': '}${JSON.stringify(g.description)}${g.priority === undefined ? '' : ` priority ${g.priority}`}`);
    for (const [name, value] of Object.entries(d.beliefs ?? {})) lines.push(`;   belief ${name} = ${JSON.stringify(value)}`);
    for (const h of d.handlers ?? []) lines.push(`;   on ${h.event} { ${h.params.join(', ')} }${h.guard === undefined ? '' : ` if (${h.guard})`} => ${h.statements} statement${h.statements === 1 ? '' : 's'} (runs as flow "on ${h.event}" when a message reaches it)`);
  }
  if (plan.passes.length > 0) {
    lines.push('', '; passes');
    for (const p of plan.passes) lines.push(`;   ${p.pass.padEnd(6)} nodes ${p.nodesBefore} -> ${p.nodesAfter}, llm requests ${p.llmBefore} -> ${p.llmAfter}`);
  }
  if (plan.warnings.length > 0) {
    lines.push('', '; warnings');
    for (const w of plan.warnings) lines.push(`;   ${w.line}:${w.col}: ${w.message}`);
  }
  return `${lines.join('\n')}\n`;
}

/** The plan in `format`, ending with a newline. */
export function emitPlan(plan: Plan, format: EmitFormat): string {
  switch (format) {
    case 'ir':
      return renderIrText(plan);
    case 'dot':
      return renderDot(plan);
    case 'mermaid':
      return renderMermaid(plan);
    case 'json':
      return serializePlan(plan);
    default: {
      const never: never = format;
      return never;
    }
  }
}
