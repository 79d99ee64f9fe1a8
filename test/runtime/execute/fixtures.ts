import type { Arg, IrFlow, IrNode, NodeOp, Plan } from '../../../src/runtime/ir/plan.js';
import { PLAN_FORMAT } from '../../../src/runtime/ir/plan.js';
import type { RunMemory } from '../../../src/runtime/memory/memory.js';
import type { Tool, ToolLookup } from '../../../src/runtime/tools/tool.js';

export const text = (t: string): Arg => [{ text: t }];
export const ref = (id: number): Arg => [{ ref: id }];
export const param = (name: string): Arg => [{ param: name }];

export function irNode(id: number, op: NodeOp, extra: Partial<IrNode> = {}): IrNode {
  return { id, op, after: [], effect: op.kind === 'print' || op.kind === 'umem' || op.kind === 'tool', label: `A.main:${op.kind}#${id}`, pos: { line: id + 1, col: 1 }, ...extra };
}

export function flow(name: string, params: string[], nodes: IrNode[], output: Arg | null): IrFlow {
  return { name, params, nodes, output };
}

/** A plan by hand (the executor does not check the hash; `validatePlan` does). */
export function plan(flows: IrFlow[], level: 'O0' | 'O1' = 'O0'): Plan {
  return {
    format: PLAN_FORMAT,
    hash: '0'.repeat(64),
    compiler: 'test',
    source: { file: 'test.ais', sha256: '0'.repeat(64) },
    optimization_level: level,
    entry: flows[0]!.name,
    flows: Object.fromEntries(flows.map((f) => [f.name, f])),
    passes: [],
    warnings: [],
  };
}

export class TestTools implements ToolLookup {
  readonly tools = new Map<string, Tool>();
  add(name: string, run: Tool['run']): this {
    this.tools.set(name, { name, run });
    return this;
  }
  get(name: string): Tool | undefined {
    return this.tools.get(name);
  }
  names(): readonly string[] {
    return [...this.tools.keys()].sort();
  }
}

/** A list per store; `query` returns every entry containing the query, joined. */
export class ListMemory implements RunMemory {
  readonly stores = new Map<string, string[]>();
  query(space: string, store: string, query: string): string {
    return (this.stores.get(`${space}/${store}`) ?? []).filter((v) => v.includes(query)).join('\n');
  }
  update(space: string, store: string, value: string): void {
    const key = `${space}/${store}`;
    this.stores.set(key, [...(this.stores.get(key) ?? []), value]);
  }
}
