/**
 * Plan validation: what `flowmeter run` checks before it executes a plan, compiled or read
 * from the cache (or edited by hand), so a broken plan fails with a message, not mid-run.
 *
 * Every issue names the flow and the node (`Writer.main %3 (Writer.main:ask->x): ...`).
 * Shapes are checked before meaning, defensively: a plan from disk is `unknown` until here,
 * so a node that is not an object is reported, not dereferenced. Acyclicity is checked
 * with Kahn's algorithm over refs, `after` edges and default → switch edges, so a cycle is
 * found even where ids are out of order; when the graph is acyclic, an edge to a later id is
 * still reported, because the executor relies on ids being a topological order.
 */
import { verifyPlanHash } from './plan-hash.js';
import type { IrFlow, Plan } from './plan.js';
import { PLAN_FORMAT } from './plan.js';
import { checkArg, checkNodeOp } from './validate-op.js';
import type { OpContext } from './validate-op.js';

export { verifyPlanHash };

export interface PlanIssue {
  readonly flow?: string;
  readonly node?: number;
  readonly message: string;
}

export interface ValidateOptions {
  /** The tool registry; when given, every capability and literal `inv` name must be in it. */
  readonly tools?: { has(name: string): boolean; names(): readonly string[] };
  /** `--input` values; when given, every entry parameter must be among them. */
  readonly inputs?: Readonly<Record<string, string>>;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
/** A value from the plan, for a message: ids as numbers, anything else as JSON. */
const show = (v: unknown): string => (typeof v === 'number' ? String(v) : (JSON.stringify(v) ?? 'nothing'));
const isIndex = (v: unknown, n: number): v is number => Number.isInteger(v) && (v as number) >= 0 && (v as number) < n;

export function validatePlan(plan: Plan, opts: ValidateOptions = {}): PlanIssue[] {
  const issues: PlanIssue[] = [];
  const p = plan as unknown;
  if (!isObject(p) || p.format !== PLAN_FORMAT) {
    return [{ message: `not a plan: format is ${isObject(p) ? (JSON.stringify(p.format) ?? 'missing') : 'missing'}, expected "${PLAN_FORMAT}"` }];
  }
  if (!isObject(p.flows)) return [{ message: 'plan has no flows' }];
  if (!verifyPlanHash(plan)) issues.push({ message: 'plan hash mismatch: the plan was edited or corrupted since it was compiled' });
  const flows = p.flows;
  const entry = typeof p.entry === 'string' && Object.hasOwn(flows, p.entry) ? (flows[p.entry] as IrFlow) : undefined;
  if (entry === undefined) issues.push({ message: `entry flow ${JSON.stringify(p.entry)} is not in the plan` });
  for (const [name, flow] of Object.entries(flows)) issues.push(...checkFlow(name, flow, flows, opts));
  const entryParams: unknown = entry?.params;
  if (entry !== undefined && opts.inputs !== undefined && Array.isArray(entryParams)) {
    for (const param of entryParams as unknown[]) {
      if (typeof param === 'string' && !Object.hasOwn(opts.inputs, param)) issues.push({ flow: entry.name, message: `entry ${entry.name} needs input "${param}": missing --input ${param}=...` });
    }
  }
  return issues;
}

function checkFlow(name: string, value: unknown, flows: Record<string, unknown>, opts: ValidateOptions): PlanIssue[] {
  const issues: PlanIssue[] = [];
  if (!isObject(value) || !Array.isArray(value.nodes) || !Array.isArray(value.params)) return [{ flow: name, message: `${name}: not a flow (needs params and nodes)` }];
  if (value.name !== name) issues.push({ flow: name, message: `${name}: flow is named ${JSON.stringify(value.name)}` });
  const params = value.params.filter((x): x is string => typeof x === 'string');
  const nodes: unknown[] = value.nodes;
  const n = nodes.length;
  const labelOf = (id: number): string => {
    const node = nodes[id];
    return isObject(node) && typeof node.label === 'string' ? node.label : '?';
  };
  const at = (id: number): string => `${name} %${id} (${labelOf(id)})`;
  const edges: number[][] = nodes.map(() => []);

  nodes.forEach((node, id) => {
    const report = (message: string): void => void issues.push({ flow: name, node: id, message: `${at(id)}: ${message}` });
    if (!isObject(node)) return report('not a node');
    if (node.id !== id) report(`has id ${JSON.stringify(node.id)} at index ${id}`);
    if (typeof node.label !== 'string' || typeof node.effect !== 'boolean' || !isObject(node.pos)) report('needs a label, an effect flag and a pos');
    const ctx: OpContext = {
      report,
      ref: (ref) => {
        if (!isIndex(ref, n) || ref === id) report(`reads %${show(ref)}, which is not another node of ${name}`);
        else edges[id]!.push(ref);
      },
      param: (param) => {
        if (!params.includes(param)) report(`reads $${param}, which is not a parameter of ${name} (${params.join(', ') || 'none'})`);
      },
      callee: (callee) => {
        if (!Object.hasOwn(flows, callee)) report(`calls ${callee}, which is not in the plan`);
      },
      tool: (tool) => {
        if (opts.tools !== undefined && !opts.tools.has(tool)) {
          const known = opts.tools.names();
          report(`unknown tool "${tool}": registered tools are ${known.length > 0 ? known.join(', ') : 'none (add tool modules in flowmeter.config.json)'}`);
        }
      },
    };
    const kind = checkNodeOp(node.op, ctx);
    if (!Array.isArray(node.after)) report('needs an after list');
    else for (const a of node.after as unknown[]) {
      if (!isIndex(a, n) || a === id) report(`after %${show(a)}, which is not another node of ${name}`);
      else edges[id]!.push(a);
    }
    if (node.fallbackFor !== undefined) {
      const target = node.fallbackFor;
      if (!isIndex(target, n) || target === id) report(`is the default of %${show(target)}, which is not another node of ${name}`);
      else {
        const op = (nodes[target] as { op?: { kind?: unknown } } | undefined)?.op;
        if (op?.kind !== 'switch') report(`is the default of %${target} (${labelOf(target)}), which is not a switch`);
        if (kind === 'switch') report('a default must be a single op, not a switch');
        edges[id]!.push(target);
      }
    }
  });
  if (value.output !== null) {
    const report = (message: string): void => void issues.push({ flow: name, message: `${name} ${message}` });
    checkArg(value.output, {
      report,
      ref: (ref) => (isIndex(ref, n) ? undefined : report(`return: reads %${show(ref)}, which is not a node of ${name}`)),
      param: (param) => (params.includes(param) ? undefined : report(`return: reads $${param}, which is not a parameter of ${name}`)),
      callee: () => undefined,
      tool: () => undefined,
    }, 'return');
  }
  if (value.returnsFrom !== undefined) {
    const ids: unknown = value.returnsFrom;
    if (!Array.isArray(ids)) issues.push({ flow: name, message: `${name}: returnsFrom is not a list` });
    else for (const id of ids as unknown[]) {
      const op = isIndex(id, n) ? (nodes[id] as { op?: { kind?: unknown } } | undefined)?.op : undefined;
      if (op?.kind !== 'if' && op?.kind !== 'loop' && op?.kind !== 'try') issues.push({ flow: name, message: `${name}: returnsFrom names %${show(id)}, which is not a control node` });
    }
  }
  issues.push(...checkOrder(name, edges, at));
  return issues;
}

/** Kahn's algorithm: nodes never freed are on (or behind) a cycle. */
function checkOrder(name: string, edges: readonly number[][], at: (id: number) => string): PlanIssue[] {
  const pending = edges.map((deps) => new Set(deps).size);
  const users: number[][] = edges.map(() => []);
  edges.forEach((deps, id) => new Set(deps).forEach((d) => users[d]!.push(id)));
  const ready = pending.flatMap((count, id) => (count === 0 ? [id] : []));
  let freed = 0;
  for (let id = ready.pop(); id !== undefined; id = ready.pop()) {
    freed++;
    for (const u of users[id]!) if (--pending[u]! === 0) ready.push(u);
  }
  if (freed < edges.length) {
    const stuck = pending.flatMap((count, id) => (count > 0 ? [at(id)] : []));
    return [{ flow: name, message: `${name}: cycle through ${stuck.join(', ')}` }];
  }
  return edges.flatMap((deps, id) =>
    deps.filter((d) => d > id).map((d) => ({ flow: name, node: id, message: `${at(id)}: depends on the later node %${d}; nodes must be in topological order` })),
  );
}
