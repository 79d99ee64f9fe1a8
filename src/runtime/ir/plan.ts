/**
 * The IR: a checked AIS program lowered to a typed dataflow DAG per flow, and the plan that
 * `flowmeter run` caches, validates and executes.
 *
 * Nodes are operations; edges carry values. Every AIS value is a string at run time, so an
 * argument is a list of parts concatenated when the node runs: literal text, another node's
 * output (`ref`), a flow parameter (`param`) or, inside a fused LLM call, the previous
 * step's answer (`prev`). A node's data dependencies are the refs in its arguments (see
 * `dataDeps`); `after` adds ordering-only edges so effects on one memory store, and prints,
 * keep their source order in a graph that otherwise runs everything it can at once.
 *
 * The plan is plain JSON (no classes, no undefined) so it serializes byte-for-byte the same
 * way every time and its content hash is stable.
 */
import type { LlmOp, MemorySpace } from '../ais/ops.js';

export const PLAN_FORMAT = 'flowmeter.plan.v1';

export type OptLevel = 'O0' | 'O1';

/** One piece of a string argument. */
export type Part =
  | { readonly text: string }
  | { readonly ref: number }
  | { readonly param: string }
  /** Only inside a fused LLM step: the answer of the step before it. */
  | { readonly prev: true };

/** A string argument: its parts, concatenated. */
export type Arg = readonly Part[];

/** One step of a fused chain: the LLM op it was and its arguments (template first). */
export interface FusedStep {
  readonly op: LlmOp;
  readonly args: readonly Arg[];
  /** The source variable the step's answer was bound to, for the prompt and for `compile --emit`. */
  readonly binds?: string;
}

/** Per-call settings from named arguments: `budget_tokens` caps the answer, `model` picks the model. */
export interface LlmOptions {
  readonly max_tokens?: number;
  readonly model?: string;
}

/** A leaf operation: what a statement or a switch case does. */
export type LeafOp =
  /** `ask("template", ctx...)` and the other five LLM ops. `args[0]` is the template. */
  | { readonly kind: 'llm'; readonly op: LlmOp; readonly args: readonly Arg[]; readonly options?: LlmOptions }
  /** A chain of LLM ops fused by `-O1` into one call whose prompt holds every step. */
  | { readonly kind: 'fused_llm'; readonly steps: readonly FusedStep[] }
  | { readonly kind: 'print'; readonly args: readonly Arg[] }
  | { readonly kind: 'merge'; readonly args: readonly Arg[] }
  /**
   * A tool call. `capability`: `name(args)` with the declared parameter names, so the tool
   * receives `{ [param]: value }`. `inv`: `inv("name", "{json}")`, `args[0]` the name and
   * `args[1]` the JSON payload (the tool receives the parsed object).
   */
  | { readonly kind: 'tool'; readonly via: 'capability'; readonly tool: string; readonly params: readonly string[]; readonly args: readonly Arg[] }
  | { readonly kind: 'tool'; readonly via: 'inv'; readonly args: readonly Arg[] }
  /** `qmem(query, "space")`: `store` is the memory entry name, or the tier itself for "stm"/"ltm"/"episodic". */
  | { readonly kind: 'qmem'; readonly space: MemorySpace; readonly store: string; readonly args: readonly Arg[] }
  /** `umem(value, "space")`. */
  | { readonly kind: 'umem'; readonly space: MemorySpace; readonly store: string; readonly args: readonly Arg[] }
  /** `Agent.flow(args)`: at -O0 runs the callee's graph (`Plan.flows[callee]`); -O1 inlines it. */
  | { readonly kind: 'call'; readonly callee: string; readonly args: readonly Arg[] }
  /** `["a", b]` with a computed item: its items as a JSON array of strings. */
  | { readonly kind: 'list'; readonly args: readonly Arg[] };

export type CallLeaf = Extract<LeafOp, { readonly kind: 'call' }>;

export type CompareOp = '==' | '!=' | '<' | '<=' | '>' | '>=';

/**
 * A condition, evaluated on text: `truthy` is false for "", "false", "no", "0", "null" and
 * "none" (trimmed, any case) and true otherwise; `==`/`!=` compare as `switch` labels do
 * (trimmed, case-insensitive, quotes and a final full stop ignored); `<`, `<=`, `>`, `>=`
 * compare numbers when both sides are numbers, else the texts.
 */
export type CondOp =
  | { readonly test: 'truthy'; readonly a: Arg }
  | { readonly test: CompareOp; readonly a: Arg; readonly b: Arg }
  | { readonly test: '&&' | '||'; readonly of: readonly CondOp[] }
  | { readonly test: '!'; readonly of: readonly CondOp[] };

/**
 * Control flow. Each block is a flow of its own in `Plan.flows` (`A.main#if@3:5.then`), whose
 * parameters are the values it reads from around it, called by the node; it is never inlined
 * (it runs only when its branch is taken). A block that reaches a `return` returns from the
 * enclosing flow (see `IrFlow.returnsFrom`).
 * - `if`: runs `then` when the condition holds, else `else` when there is one.
 * - `loop`: runs `body` once per item of `items` at once (a JSON array, else one item per
 *   non-empty line); the item is the body's first parameter.
 * - `try`: runs `body`; when it fails, runs `catch` in its place.
 */
export type ControlOp =
  | { readonly kind: 'if'; readonly cond: CondOp; readonly then: CallLeaf; readonly else?: CallLeaf }
  | { readonly kind: 'loop'; readonly items: Arg; readonly body: CallLeaf }
  | { readonly kind: 'try'; readonly body: CallLeaf; readonly catch: CallLeaf };

export interface SwitchCaseOp {
  readonly label: string;
  readonly op: LeafOp;
}

/**
 * `switch subject { case "x" => op ... }`: runs the first case whose label equals the subject
 * (trimmed, case-insensitive; see the executor). With no match it fails, which hands over to
 * its `default` node (a separate node with `fallbackFor` = this node), as does a failing case.
 */
export type NodeOp = LeafOp | { readonly kind: 'switch'; readonly subject: Arg; readonly cases: readonly SwitchCaseOp[] } | ControlOp;

export interface SourcePos {
  readonly line: number;
  readonly col: number;
}

export interface IrNode {
  /** Index in `IrFlow.nodes`; nodes are in a topological order (every ref points to a lower id). */
  readonly id: number;
  readonly op: NodeOp;
  /** Ordering-only predecessors (lower ids): their outputs are not used, only their completion. */
  readonly after: readonly number[];
  /** Set on a switch's default: it runs only if node `fallbackFor` fails, and stands in for it. */
  readonly fallbackFor?: number;
  /** Prints, memory writes and tool calls: kept by dead-code elimination and never merged by CSE. */
  readonly effect: boolean;
  /** `Agent.flow:op` plus the bound variable when there is one, e.g. `Writer.main:ask->thesis`. */
  readonly label: string;
  /** Where the statement is in the source (of the caller, for inlined nodes, the callee's own). */
  readonly pos: SourcePos;
}

export interface IrFlow {
  /** `Agent.flow` */
  readonly name: string;
  readonly params: readonly string[];
  readonly nodes: readonly IrNode[];
  /** The `return` expression, or null for a flow without one. */
  readonly output: Arg | null;
  /**
   * Control nodes (in source order, before the flow's own `return`) whose blocks may return:
   * the first that did gives the flow's value, else `output` does. Absent when there are none.
   */
  readonly returnsFrom?: readonly number[];
}

/** apxm's agent-level declarations, kept as written. */
export interface AgentDeclarationsIr {
  readonly context?: string;
  readonly discoverable?: readonly string[];
  readonly goals?: readonly { readonly name?: string; readonly description: string; readonly priority?: number }[];
  readonly beliefs?: Readonly<Record<string, string>>;
  /** `on Event { fields } if (guard) => …`, as written; `communicate` runs one as the flow `Agent.on Event`. */
  readonly handlers?: readonly { readonly event: string; readonly params: readonly string[]; readonly guard?: string; readonly statements: number }[];
}

export interface PassStat {
  readonly pass: 'inline' | 'dce' | 'cse' | 'fuse';
  readonly nodesBefore: number;
  readonly nodesAfter: number;
  /** LLM requests the entry graph makes when run once, before and after the pass (a call node counts its callee's). */
  readonly llmBefore: number;
  readonly llmAfter: number;
}

export interface PlanWarning {
  readonly line: number;
  readonly col: number;
  readonly message: string;
}

export interface Plan {
  readonly format: typeof PLAN_FORMAT;
  /** sha256 (hex) of the canonical JSON of every other field. */
  readonly hash: string;
  /** flowmeter's version: a plan from another compiler is recompiled, not trusted. */
  readonly compiler: string;
  readonly source: { readonly file: string; readonly sha256: string };
  readonly optimization_level: OptLevel;
  /** `Agent.flow` of the @entry flow; its params come from `--input name=value`. */
  readonly entry: string;
  /** The entry flow and, at -O0, every flow it reaches through calls. Keys are `Agent.flow`. */
  readonly flows: Readonly<Record<string, IrFlow>>;
  readonly passes: readonly PassStat[];
  /** The checker's warnings, kept so a cached plan still reports them. */
  readonly warnings: readonly PlanWarning[];
  /** Per agent that declares any: its context, discoverable tools, goals, beliefs and handlers. */
  readonly agents?: Readonly<Record<string, AgentDeclarationsIr>>;
}

/** The node ids a node reads, in first-use order, without duplicates. */
export function dataDeps(op: NodeOp): number[] {
  const seen = new Set<number>();
  const visitArg = (arg: Arg): void => {
    for (const p of arg) if ('ref' in p) seen.add(p.ref);
  };
  const visitLeaf = (leaf: LeafOp): void => {
    if (leaf.kind === 'fused_llm') for (const s of leaf.steps) s.args.forEach(visitArg);
    else leaf.args.forEach(visitArg);
  };
  if (op.kind === 'switch') {
    visitArg(op.subject);
    for (const c of op.cases) visitLeaf(c.op);
  } else if (op.kind === 'if' || op.kind === 'loop' || op.kind === 'try') {
    controlArgs(op).forEach(visitArg);
  } else visitLeaf(op);
  return [...seen];
}

/** Every argument of a condition. */
export function condArgs(cond: CondOp): Arg[] {
  if ('of' in cond) return cond.of.flatMap(condArgs);
  return 'b' in cond ? [cond.a, cond.b] : [cond.a];
}

/** The block calls of a control node. */
export function controlBlocks(op: ControlOp): CallLeaf[] {
  switch (op.kind) {
    case 'if':
      return op.else === undefined ? [op.then] : [op.then, op.else];
    case 'loop':
      return [op.body];
    case 'try':
      return [op.body, op.catch];
    default: {
      const never: never = op;
      return never;
    }
  }
}

/** Every argument a control node reads: its condition or items, and what it passes its blocks. */
export function controlArgs(op: ControlOp): Arg[] {
  const own = op.kind === 'if' ? condArgs(op.cond) : op.kind === 'loop' ? [op.items] : [];
  return [...own, ...controlBlocks(op).flatMap((b) => b.args)];
}

export function isControl(op: NodeOp): op is ControlOp {
  return op.kind === 'if' || op.kind === 'loop' || op.kind === 'try';
}
