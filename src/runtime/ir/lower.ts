/**
 * Lowering: a checked AIS program → a -O0 `Plan`, one `IrFlow` per flow reachable from the
 * entry, nodes in source order (so every ref points to a lower id).
 *
 * Decisions where the language is silent:
 * - `qmem`/`umem` keep one argument, the key or value; the space literal is resolved into
 *   `space` and `store` ("stm"/"ltm"/"episodic" in any case → that tier, store = the tier;
 *   a `memory { name: TIER }` entry → its tier, store = the entry name; a tier name wins
 *   over an entry of the same name, as in the checker).
 * - The flow's output is its first `return`; a later `return` is ignored. Statements after
 *   a return are still lowered: a dataflow graph has no control flow, and the checker
 *   already scoped them.
 * - A switch is one node (its cases are leaf ops) and its `default` a second node with
 *   `fallbackFor`; the switch's result variable refers to the switch node.
 * - `effect`: print, umem and tool calls (a user's tool may have side effects), `think`,
 *   `reason`, `reflect` and `plan` (memory-writing in apxm), a call whose
 *   callee has an effect, and a switch with an effectful case.
 * - A call to a flow is lowered after its callee, so a call's effect and memory footprint
 *   are known; the checker guarantees there are no cycles.
 */
import type { Agent, Cond, Expr, Flow, OpCall, Param, Span, Statement } from '../ais/ast.js';
import { blockMayReturn, forEachCall, handlerFlow } from '../ais/ast.js';
import { isHoistedName } from '../ais/parse-statements.js';
import type { CheckedProgram } from '../ais/checker.js';
import type { Diagnostic } from '../ais/diagnostics.js';
import { classifyCall, isMemorySpace } from '../ais/ops.js';
import type { MemorySpace } from '../ais/ops.js';
import { leavesOf, normalizeArg } from './args.js';
import { cleanAfter, flowFootprints, orderingEdges } from './ordering.js';
import { sha256Hex, withHash } from './plan-hash.js';
import type { AgentDeclarationsIr, Arg, CallLeaf, CondOp, IrFlow, IrNode, LeafOp, NodeOp, Part, Plan, SourcePos } from './plan.js';
import { PLAN_FORMAT } from './plan.js';

interface Draft {
  readonly op: NodeOp;
  readonly fallbackFor?: number;
  readonly effect: boolean;
  readonly label: string;
  readonly pos: SourcePos;
}

function internal(message: string): Error {
  return new Error(`lowering: ${message} (the checker should have rejected this program)`);
}

export function resolveMemorySpace(agent: Agent, literal: string): { space: MemorySpace; store: string } {
  const tier = literal.toLowerCase();
  if (isMemorySpace(tier)) return { space: tier, store: tier };
  const entry = agent.memory.flatMap((m) => m.entries).find((e) => e.name.name === literal);
  const entryTier = entry?.tier.name.toLowerCase();
  if (entryTier === undefined || !isMemorySpace(entryTier)) throw internal(`unknown memory space "${literal}"`);
  return { space: entryTier, store: literal };
}

const MEMORY_WRITING_LLM_OPS: ReadonlySet<string> = new Set(['think', 'reason', 'reflect', 'plan']);

function isEffect(op: NodeOp, flows: ReadonlyMap<string, IrFlow>): boolean {
  return leavesOf(op).some((leaf) => {
    switch (leaf.kind) {
      case 'print':
      case 'umem':
      case 'tool':
        return true;
      case 'call':
        return flows.get(leaf.callee)?.nodes.some((n) => n.effect) ?? false;
      case 'llm':
        // apxm treats think, reason, reflect and plan as memory-writing operations: they run
        // even when nothing reads their answer.
        return MEMORY_WRITING_LLM_OPS.has(leaf.op);
      case 'fused_llm':
      case 'merge':
      case 'qmem':
      case 'list':
        return false;
      default: {
        const never: never = leaf;
        return never;
      }
    }
  });
}

export function lowerProgram(
  checked: CheckedProgram,
  sourceText: string,
  file: string,
  compilerVersion: string,
  /** The front end's diagnostics; their warnings are kept in the plan. */
  diagnostics: readonly Diagnostic[] = [],
): Plan {
  const agents = new Map(checked.program.agents.map((a) => [a.name.name, a] as const));
  const flows = new Map<string, IrFlow>();
  const footprints = flowFootprints((name) => flows.get(name));

  const lowerFlow = (agent: Agent, flow: Flow): IrFlow => {
    const key = `${agent.name.name}.${flow.name.name}`;
    const done = flows.get(key);
    if (done !== undefined) return done;
    const scope = new Map<string, Part>(flow.params.map((p) => [p.name.name, { param: p.name.name }]));
    const drafts: Draft[] = [];
    let output: Arg | null = null;

    const arg = (e: Expr): Arg => {
      const parts = (x: Expr): Part[] => {
        switch (x.kind) {
          case 'string':
            return [{ text: x.value }];
          case 'var': {
            const part = scope.get(x.name);
            if (part === undefined) throw internal(`undefined variable "${x.name}" in ${key}`);
            return [part];
          }
          case 'concat':
            return x.parts.flatMap(parts);
          case 'list': {
            const items = x.items.map(arg);
            // A list of literals is its JSON text; one with a computed item is built at run time.
            if (items.every((a) => a.every((p) => 'text' in p))) return [{ text: JSON.stringify(items.map((a) => a.map((p) => ('text' in p ? p.text : '')).join(''))) }];
            return [{ ref: add({ kind: 'list', args: items }, 'list', undefined, { line: x.span.line, col: x.span.col }) }];
          }
          default: {
            const never: never = x;
            return never;
          }
        }
      };
      return normalizeArg(parts(e));
    };

    const leaf = (call: OpCall): { op: LeafOp; name: string } => {
      const kind = classifyCall(call);
      const args = call.args.map(arg);
      switch (kind.kind) {
        case 'llm': {
          const named = new Map((call.named ?? []).map((n) => [n.name.name, n.value]));
          const prompt = named.get('prompt');
          const budget = named.get('budget_tokens');
          const model = named.get('model');
          const options = {
            ...(budget?.kind === 'string' ? { max_tokens: Number(budget.value) } : {}),
            ...(model?.kind === 'string' ? { model: model.value } : {}),
          };
          const all = prompt === undefined ? apxmArgs(kind.op, call.args, args) : [arg(prompt), ...args];
          return { op: { kind: 'llm', op: kind.op, args: all, ...(Object.keys(options).length > 0 ? { options } : {}) }, name: kind.op };
        }
        case 'print':
        case 'merge':
          return { op: { kind: kind.kind, args }, name: kind.kind };
        case 'inv':
          return { op: { kind: 'tool', via: 'inv', args }, name: 'inv' };
        case 'capability': {
          const cap = agent.capabilities.find((c) => c.name.name === kind.name);
          const named = call.named ?? [];
          if (cap !== undefined) {
            // A declared capability: positional arguments fill its parameters in order, named ones by name.
            const params = cap.params.map((p) => p.name.name);
            const byName = new Map(named.map((n) => [n.name.name, arg(n.value)] as const));
            const ordered = params.map((p, i) => (i < args.length ? args[i]! : (byName.get(p) ?? [])));
            return { op: { kind: 'tool', via: 'capability', tool: kind.name, params, args: ordered }, name: kind.name };
          }
          // An undeclared tool gets its positional arguments as `input`, `arg1`, `arg2`, … and its named ones by name.
          const params = [...call.args.map((_, i) => (i === 0 ? 'input' : `arg${i}`)), ...named.map((n) => n.name.name)];
          return { op: { kind: 'tool', via: 'capability', tool: kind.name, params, args: [...args, ...named.map((n) => arg(n.value))] }, name: kind.name };
        }
        case 'qmem':
        case 'umem': {
          const space = call.args[1];
          if (space?.kind !== 'string' || args[0] === undefined) throw internal(`${kind.kind} without a literal space`);
          return { op: { kind: kind.kind, ...resolveMemorySpace(agent, space.value), args: [args[0]] }, name: kind.kind };
        }
        case 'flow': {
          const calleeAgent = agents.get(kind.agent);
          const calleeFlow = calleeAgent === undefined ? undefined : flowNamed(calleeAgent, kind.flow);
          if (calleeAgent === undefined || calleeFlow === undefined) throw internal(`unknown flow ${kind.agent}.${kind.flow}`);
          lowerFlow(calleeAgent, calleeFlow);
          const callee = `${kind.agent}.${kind.flow}`;
          return { op: { kind: 'call', callee, args }, name: callee };
        }
        default: {
          const never: never = kind;
          return never;
        }
      }
    };

    const add = (op: NodeOp, name: string, result: string | undefined, pos: SourcePos, fallbackFor?: number, returns = false): number => {
      const label = `${key}:${name}${result === undefined || isHoistedName(result) ? '' : `->${result}`}`;
      const draft: Draft = { op, effect: returns || isEffect(op, flows), label, pos };
      drafts.push(fallbackFor === undefined ? draft : { ...draft, fallbackFor });
      return drafts.length - 1;
    };

    const statement = (stmt: Statement): void => {
      const pos = { line: stmt.span.line, col: stmt.span.col };
      switch (stmt.kind) {
        case 'op': {
          const { op, name } = leaf(stmt);
          const id = add(op, name, stmt.result?.name, pos);
          if (stmt.result !== undefined) scope.set(stmt.result.name, { ref: id });
          return;
        }
        case 'switch': {
          const subject = arg(stmt.subject);
          const cases = stmt.cases.map((c) => ({ label: c.label.value, op: leaf(c.call).op }));
          const id = add({ kind: 'switch', subject, cases }, 'switch', stmt.result?.name, pos);
          if (stmt.default !== undefined) {
            const d = leaf(stmt.default);
            add(d.op, `default(${d.name})`, stmt.result?.name, { line: stmt.default.span.line, col: stmt.default.span.col }, id);
          }
          if (stmt.result !== undefined) scope.set(stmt.result.name, { ref: id });
          return;
        }
        case 'return':
          output ??= arg(stmt.value);
          return;
        case 'if': {
          const cond = condOp(stmt.cond);
          const then = block(stmt.then, 'if', stmt.span, 'then');
          const otherwise = stmt.else === undefined ? undefined : block(stmt.else, 'if', stmt.span, 'else');
          control({ kind: 'if', cond, then, ...(otherwise === undefined ? {} : { else: otherwise }) }, stmt, pos);
          return;
        }
        case 'loop': {
          const items = arg(stmt.items);
          control({ kind: 'loop', items, body: block(stmt.body, 'loop', stmt.span, 'body', stmt.variable.name) }, stmt, pos);
          return;
        }
        case 'try':
          control({ kind: 'try', body: block(stmt.body, 'try', stmt.span, 'body'), catch: block(stmt.catchBody, 'try', stmt.span, 'catch') }, stmt, pos);
          return;
        default: {
          const never: never = stmt;
          return never;
        }
      }
    };

    const condOp = (c: Cond): CondOp => {
      switch (c.kind) {
        case 'truthy':
          return { test: 'truthy', a: arg(c.value) };
        case 'compare':
          return { test: c.op, a: arg(c.left), b: arg(c.right) };
        case 'logic': {
          // `a && b && c` is one list, as a concatenation is.
          const flat = (x: Cond): CondOp[] => (x.kind === 'logic' && x.op === c.op ? [...flat(x.left), ...flat(x.right)] : [condOp(x)]);
          return { test: c.op, of: flat(c) };
        }
        case 'not':
          return { test: '!', of: [condOp(c.value)] };
        default: {
          const never: never = c;
          return never;
        }
      }
    };

    /**
     * A block becomes a flow of its own, `A.main#if@3:5.then`, whose parameters are the loop
     * variable (for a loop body) and the names of the enclosing scope it reads.
     */
    const block = (stmts: readonly Statement[], form: string, span: Span, part: string, item?: string): CallLeaf => {
      const reads = [...new Set(blockReads(stmts))].filter((n) => scope.has(n) && n !== item);
      const name = `${flow.name.name}#${form}@${span.line}:${span.col}.${part}`;
      const param = (n: string): Param => ({ kind: 'param', name: { name: n, span }, type: { name: 'str', span }, span });
      const synthetic: Flow = { kind: 'flow', name: { name, span }, entry: false, params: [...(item === undefined ? [] : [item]), ...reads].map(param), body: stmts, span };
      const lowered = lowerFlow(agent, synthetic);
      return { kind: 'call', callee: lowered.name, args: [...(item === undefined ? [] : [[]]), ...reads.map((n) => [scope.get(n)!])] };
    };

    const control = (op: NodeOp, stmt: Statement, pos: SourcePos): void => {
      const returns = blockMayReturn(stmt);
      const id = add(op, stmt.kind, undefined, pos, undefined, returns);
      // A return inside a block counts only while the flow has not returned already.
      if (returns && output === null) returnsFrom.push(id);
    };

    const returnsFrom: number[] = [];
    withContinuations(flow.body).forEach(statement);
    const edges = orderingEdges(drafts, footprints);
    const nodes = drafts.map((d, id): IrNode => ({ id, ...d, after: cleanAfter(edges[id] ?? [], { id, ...d }) }));
    const lowered: IrFlow = { name: key, params: flow.params.map((p) => p.name.name), nodes, output, ...(returnsFrom.length > 0 ? { returnsFrom } : {}) };
    flows.set(key, lowered);
    return lowered;
  };

  // Callees before callers, so a call finds its callee lowered and lowering never recurses
  // through a chain of calls (10,000 agents deep is a legal program).
  for (const [agent, flow] of callOrder(checked.entry, agents)) lowerFlow(agent, flow);
  const entry = lowerFlow(checked.entry.agent, checked.entry.flow);
  return withHash({
    format: PLAN_FORMAT,
    compiler: compilerVersion,
    source: { file, sha256: sha256Hex(sourceText) },
    optimization_level: 'O0',
    entry: entry.name,
    flows: Object.fromEntries(flows),
    passes: [],
    warnings: diagnostics.filter((d) => d.severity === 'warning').map((d) => ({ line: d.line, col: d.col, message: d.message })),
    ...agentDeclarations(checked.program.agents, sourceText),
  });
}

/** The agents' declarations as the plan keeps them; absent when no agent declares any. */
function agentDeclarations(agents: readonly Agent[], sourceText: string): { agents?: Record<string, AgentDeclarationsIr> } {
  const lines = sourceText.split(/\r?\n/);
  const textOf = (span: Span): string => {
    if (span.line !== span.endLine) return lines.slice(span.line - 1, span.endLine).join(' ').replace(/\s+/g, ' ').trim();
    return Array.from(lines[span.line - 1] ?? '').slice(span.col - 1, span.endCol - 1).join('');
  };
  const out: Record<string, AgentDeclarationsIr> = {};
  for (const a of agents) {
    const d = a.declarations;
    const ir: AgentDeclarationsIr = {
      ...(d.context === undefined ? {} : { context: d.context.value }),
      ...(d.discoverable.length === 0 ? {} : { discoverable: d.discoverable.map((n) => n.name) }),
      ...(d.goals.length === 0 ? {} : { goals: d.goals.map((g) => ({ ...(g.name === undefined ? {} : { name: g.name.name }), description: g.description, ...(g.priority === undefined ? {} : { priority: g.priority }) })) }),
      ...(d.beliefs.length === 0 ? {} : { beliefs: Object.fromEntries(d.beliefs.map((b) => [b.name.name, b.value])) }),
      ...(d.handlers.length === 0 ? {} : { handlers: d.handlers.map((h) => ({ event: h.event.name, params: h.params.map((p) => p.name.name), ...(h.guard === undefined ? {} : { guard: textOf(h.guard.span) }), statements: h.body.length })) }),
    };
    if (Object.keys(ir).length > 0) out[a.name.name] = ir;
  }
  return Object.keys(out).length === 0 ? {} : { agents: out };
}

const labelled = (label: string, a: Arg): Arg => normalizeArg([{ text: label }, ...a]);

/**
 * apxm's meaning of the arguments of three LLM ops (the template first, then context, for the others):
 * - `verify(claim, evidence[, template])`: the template (or a plain instruction) first, then the claim and the evidence, labelled;
 * - `plan(goal, ctx…)`: the first argument is the goal;
 * - `reflect("trace", ctx…)`: a string first argument names what to reflect on (apxm: a trace id), it is no instruction.
 */
function apxmArgs(op: string, exprs: readonly Expr[], args: readonly Arg[]): Arg[] {
  const [first = [], second = [], third, ...rest] = args;
  switch (op) {
    case 'verify':
      if (args.length < 2) return [...args];
      return [third ?? [{ text: 'Check the claim against the evidence.' }], labelled('Claim: ', first), labelled('Evidence: ', second), ...rest];
    case 'plan':
      return [labelled('Goal: ', first), ...args.slice(1)];
    case 'reflect':
      return exprs[0]?.kind === 'string' ? [labelled('Trace: ', first), ...args.slice(1)] : [...args];
    default:
      return [...args];
  }
}

/**
 * What follows an `if` whose blocks may return runs only when it did not: those statements
 * move into each branch that does not end in a `return` of its own (an absent else becomes
 * one). A nested `if` that may return does the same inside its block, when that block is
 * lowered. The checker refuses statements after a loop or try that may return.
 */
function withContinuations(stmts: readonly Statement[]): readonly Statement[] {
  const endsInReturn = (b: readonly Statement[]): boolean => b.some((s) => s.kind === 'return');
  for (let i = 0; i < stmts.length - 1; i++) {
    const s = stmts[i]!;
    if (s.kind !== 'if' || !blockMayReturn(s)) continue;
    const rest = stmts.slice(i + 1);
    const extend = (b: readonly Statement[]): readonly Statement[] => (endsInReturn(b) ? b : [...b, ...rest]);
    return [...stmts.slice(0, i), { ...s, then: extend(s.then), else: extend(s.else ?? []) }];
  }
  return stmts;
}

/**
 * Every variable name read anywhere in `stmts`, nested blocks included: a walk over the
 * tree's nodes (the objects with a `kind`), so every place a name can be read is covered
 * without listing them. Names and spans have no `kind`, so the walk does not enter them.
 */
function blockReads(stmts: readonly Statement[]): string[] {
  const names: string[] = [];
  const stack: unknown[] = [stmts];
  while (stack.length > 0) {
    const value = stack.pop();
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push(value[i]);
    } else if (typeof value === 'object' && value !== null && 'kind' in value) {
      const node = value as { kind?: unknown; name?: unknown };
      if (node.kind === 'var' && typeof node.name === 'string') names.push(node.name);
      for (const field of Object.values(value)) if (typeof field === 'object') stack.push(field);
    }
  }
  return names;
}

/** An agent's flow by name, or its handler (`on Message`) as the flow a message runs. */
function flowNamed(agent: Agent, name: string): Flow | undefined {
  return agent.flows.find((f) => f.name.name === name) ?? agent.declarations.handlers.map(handlerFlow).find((f) => f.name.name === name);
}

/** Every cross-agent call in a flow, in source order (switch cases, defaults and blocks included). */
function flowCalls(flow: Flow): OpCall[] {
  const calls: OpCall[] = [];
  forEachCall(flow.body, (call) => {
    if (call.agent !== undefined) calls.push(call);
  });
  return calls;
}

/**
 * The flows reachable from the entry through calls, callees first (a depth-first post-order
 * in call order, on an explicit stack). The checker rejected cycles and unknown flows.
 */
function callOrder(entry: { readonly agent: Agent; readonly flow: Flow }, agents: ReadonlyMap<string, Agent>): [Agent, Flow][] {
  const order: [Agent, Flow][] = [];
  const seen = new Set<Flow>([entry.flow]);
  const stack = [{ agent: entry.agent, flow: entry.flow, calls: flowCalls(entry.flow), next: 0 }];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const call = top.calls[top.next++];
    if (call === undefined) {
      stack.pop();
      order.push([top.agent, top.flow]);
      continue;
    }
    const kind = classifyCall(call);
    if (kind.kind !== 'flow') continue;
    const agent = agents.get(kind.agent);
    const flow = agent === undefined ? undefined : flowNamed(agent, kind.flow);
    if (agent === undefined || flow === undefined || seen.has(flow)) continue;
    seen.add(flow);
    stack.push({ agent, flow, calls: flowCalls(flow), next: 0 });
  }
  return order;
}
