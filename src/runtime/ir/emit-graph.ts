/**
 * A plan as a graph picture: Graphviz dot and Mermaid flowcharts.
 *
 * One cluster (subgraph) per flow with its nodes and a `return` node. Data edges are solid,
 * `after` edges dashed, a switch's default hangs off its switch on a dotted edge, and a call
 * node gets a bold edge from its callee's `return`. Long literals are cut to 40 characters
 * (the `ir` format shows them whole). Labels are escaped for each language: dot quoted
 * strings take `\\` and `\"` (and `\n` as a line break, so a literal backslash must be
 * doubled); Mermaid labels take HTML entity codes (`#quot;`, `#35;`, ...) and `<br/>`.
 */
import type { IrFlow, IrNode, Plan } from './plan.js';
import { dataDeps, isControl } from './plan.js';
import { leavesOf } from './args.js';
import { flowsInOrder, renderArg, renderOp } from './render-op.js';

const MAX_TEXT = 40;

interface Edge {
  readonly from: string;
  readonly to: string;
  readonly kind: 'data' | 'after' | 'default' | 'call';
}

interface GraphNode {
  readonly id: string;
  readonly lines: readonly string[];
  readonly shape: 'box' | 'switch' | 'return';
  readonly effect: boolean;
}

/** Nodes and edges of every flow, with ids made by `idOf(flow, node)` (node `return` for the output). */
function collect(plan: Plan, idOf: (flow: IrFlow, node: number | 'return') => string): { clusters: { flow: IrFlow; nodes: GraphNode[] }[]; edges: Edge[] } {
  const edges: Edge[] = [];
  const clusters = flowsInOrder(plan).map((flow) => {
    const nodes = flow.nodes.map((n: IrNode): GraphNode => {
      const to = idOf(flow, n.id);
      for (const d of dataDeps(n.op)) edges.push({ from: idOf(flow, d), to, kind: 'data' });
      for (const a of n.after) edges.push({ from: idOf(flow, a), to, kind: 'after' });
      if (n.fallbackFor !== undefined) edges.push({ from: idOf(flow, n.fallbackFor), to, kind: 'default' });
      for (const leaf of leavesOf(n.op)) {
        if (leaf.kind === 'call' && Object.hasOwn(plan.flows, leaf.callee)) edges.push({ from: idOf(plan.flows[leaf.callee]!, 'return'), to, kind: 'call' });
      }
      return { id: to, lines: [`%${n.id} ${renderOp(n.op, { maxText: MAX_TEXT })}`, n.label], shape: n.op.kind === 'switch' || isControl(n.op) ? 'switch' : 'box', effect: n.effect };
    });
    const ret = idOf(flow, 'return');
    for (const p of flow.output ?? []) if ('ref' in p) edges.push({ from: idOf(flow, p.ref), to: ret, kind: 'data' });
    const output = flow.output === null ? 'return none' : `return ${renderArg(flow.output, { maxText: MAX_TEXT })}`;
    nodes.push({ id: ret, lines: [output], shape: 'return', effect: false });
    return { flow, nodes };
  });
  return { clusters, edges: dedupe(edges) };
}

function dedupe(edges: Edge[]): Edge[] {
  const seen = new Set<string>();
  return edges.filter((e) => {
    const key = `${e.kind} ${e.from} ${e.to}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export function dotString(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\r\n|\r|\n/g, '\\n')}"`;
}

export function renderDot(plan: Plan): string {
  const { clusters, edges } = collect(plan, (flow, n) => `${flow.name}/${n}`);
  const out = [
    'digraph plan {',
    `  graph [rankdir=TB, fontname="Helvetica", labelloc=t, label=${dotString(`${plan.entry} at -${plan.optimization_level}`)}];`,
    '  node [shape=box, fontname="Helvetica", fontsize=10];',
    '  edge [fontname="Helvetica", fontsize=9];',
  ];
  const shape = { box: 'box', switch: 'diamond', return: 'oval' } as const;
  clusters.forEach(({ flow, nodes }, i) => {
    out.push(`  subgraph ${dotString(`cluster_${i}`)} {`, `    label=${dotString(flow.name)};`);
    for (const n of nodes) {
      const attrs = [`label=${dotString(n.lines.join('\n'))}`, `shape=${shape[n.shape]}`, ...(n.effect ? ['peripheries=2'] : [])];
      out.push(`    ${dotString(n.id)} [${attrs.join(', ')}];`);
    }
    out.push('  }');
  });
  const style = { data: '', after: ' [style=dashed]', default: ' [style=dotted, label="default"]', call: ' [style=bold, label="call"]' } as const;
  for (const e of edges) out.push(`  ${dotString(e.from)} -> ${dotString(e.to)}${style[e.kind]};`);
  out.push('}');
  return `${out.join('\n')}\n`;
}

export function mermaidLabel(s: string): string {
  // `#` first: every later replacement writes one.
  const escaped = s
    .replace(/#/g, '#35;')
    .replace(/&/g, '#amp;')
    .replace(/"/g, '#quot;')
    .replace(/</g, '#lt;')
    .replace(/>/g, '#gt;');
  return `"${escaped.replace(/\r\n|\r|\n/g, '<br/>')}"`;
}

export function renderMermaid(plan: Plan): string {
  // n0, n1, ... in reading order: flows in order, each flow's nodes, then its return.
  const ids = new Map<string, string>();
  for (const flow of flowsInOrder(plan)) {
    for (const key of [...flow.nodes.map((n) => n.id), 'return']) ids.set(`${flow.name}/${key}`, `n${ids.size}`);
  }
  const { clusters, edges } = collect(plan, (flow, n) => ids.get(`${flow.name}/${n}`) ?? `missing_${ids.size}`);
  const out = ['flowchart TD'];
  const open = { box: ['[', ']'], switch: ['{', '}'], return: ['([', '])'] } as const;
  clusters.forEach(({ flow, nodes }, i) => {
    out.push(`  subgraph f${i}[${mermaidLabel(flow.name)}]`);
    for (const n of nodes) {
      const [l, r] = open[n.shape];
      out.push(`    ${n.id}${l}${mermaidLabel(n.lines.join('\n'))}${r}`);
    }
    out.push('  end');
  });
  const arrow = { data: '-->', after: '-.->', default: '-. default .->', call: '== call ==>' } as const;
  for (const e of edges) out.push(`  ${e.from} ${arrow[e.kind]} ${e.to}`);
  return `${out.join('\n')}\n`;
}
