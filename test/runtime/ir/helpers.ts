import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { compileSource, formatDiagnostics } from '../../../src/runtime/ais/index.js';
import { lowerProgram } from '../../../src/runtime/ir/lower.js';
import { optimize } from '../../../src/runtime/ir/optimize.js';
import { withHash } from '../../../src/runtime/ir/plan-hash.js';
import type { IrFlow, IrNode, OptLevel, Plan } from '../../../src/runtime/ir/plan.js';

export const VERSION = '9.9.9-test';
export const EXAMPLES_DIR = join(import.meta.dirname, '..', '..', '..', 'examples', 'workflows');

export function exampleNames(): string[] {
  return readdirSync(EXAMPLES_DIR).filter((f) => f.endsWith('.ais')).sort();
}

export function exampleText(name: string): string {
  return readFileSync(join(EXAMPLES_DIR, name.endsWith('.ais') ? name : `${name}.ais`), 'utf8');
}

/** Lowers (and at O1 optimizes) a source that must compile; throws with the diagnostics otherwise. */
export function planOf(text: string, level: OptLevel = 'O0', file = 'test.ais'): Plan {
  const r = compileSource(file, text);
  if (r.program === undefined) throw new Error(`does not compile:\n${formatDiagnostics(r.diagnostics, text)}`);
  return optimize(lowerProgram(r.program, text, file, VERSION, r.diagnostics), level);
}

export function examplePlan(name: string, level: OptLevel): Plan {
  return planOf(exampleText(name), level, `examples/workflows/${name}.ais`);
}

/** One agent A with an entry flow `main(params)`; `members` go before the flow. */
export function program(body: string, { params = 'x: str', members = '', extra = '' } = {}): string {
  return `agent A {\n${members}\n  @entry flow main(${params}) -> str {\n${body}\n  }\n}\n${extra}`;
}

export function entryFlow(plan: Plan): IrFlow {
  return plan.flows[plan.entry]!;
}

export function nodeByLabel(flow: IrFlow, suffix: string): IrNode {
  const node = flow.nodes.find((n) => n.label.endsWith(suffix));
  if (node === undefined) throw new Error(`no node labelled ...${suffix} in ${flow.nodes.map((n) => n.label).join(', ')}`);
  return node;
}

export type DeepMutable<T> = T extends (infer U)[] ? DeepMutable<U>[] : T extends readonly (infer U)[] ? DeepMutable<U>[] : T extends object ? { -readonly [K in keyof T]: DeepMutable<T[K]> } : T;

/** A plan edited by hand: `edit` changes a deep copy; the hash is recomputed unless `rehash` is false. */
export function edited(plan: Plan, edit: (p: DeepMutable<Plan>) => void, rehash = true): Plan {
  const copy = structuredClone(plan) as DeepMutable<Plan>;
  edit(copy);
  const result: Plan = copy;
  return rehash ? withHash(result) : result;
}
