/**
 * One IR flow → one scheduler `TaskGraph`, each node doing its op through the SDK.
 *
 * A node's inputs are its data dependencies (`dataDeps`) followed by its ordering-only
 * `after` edges, whose values are never read. Every node is a measured step named by its
 * label; LLM ops go through `run.llmCall` (tokens, cost, latency, TTFT), tools through
 * `run.toolCall`. At -O0 a cross-agent call is a `container` node that runs the callee's
 * graph on the same scheduler clock, so nested operations count like inlined ones.
 */
import type { Arg, CallLeaf, CondOp, ControlOp, IrFlow, IrNode, LeafOp, LlmOptions, NodeOp } from '../ir/plan.js';
import { dataDeps, isControl } from '../ir/plan.js';
import type { TaskContext, TaskGraph, TaskNode } from '../scheduler/index.js';
import type { ArgValues } from './prompt.js';
import { Returned, asText, fusedMessages, llmMessages, renderArg } from './prompt.js';
import { isRecord } from '../tools/input.js';
import type { ExecEnv } from './env.js';
import { runFlow } from './run-flow.js';
import type { FlowRun } from './run-flow.js';

/** A `switch` whose subject matched no case and that has no default (or whose default then runs). */
export class NoCaseMatchedError extends Error {
  override readonly name = 'NoCaseMatchedError';
}

/** An `inv` payload that is not a JSON object. */
export class ToolPayloadError extends Error {
  override readonly name = 'ToolPayloadError';
}

/** A tool the registry does not have (validation catches literal names; `inv` with a computed name lands here). */
export class UnknownToolError extends Error {
  override readonly name = 'UnknownToolError';
}

/**
 * Case labels match the subject trimmed, case-insensitively, with surrounding quotes and a
 * trailing full stop ignored: a model asked for one word often answers `"Billing."`.
 */
export function caseKey(text: string): string {
  return text.trim().replace(/^["'`]+|["'`]+$/g, '').replace(/[.!]+$/, '').trim().toLowerCase();
}

export function flowGraph(env: ExecEnv, flow: IrFlow, params: Readonly<Record<string, string>>): TaskGraph {
  const resolve = orderingResolver(flow);
  const nodes: TaskNode[] = flow.nodes.map((node) => taskNode(env, node, params, resolve));
  return { nodes };
}

/**
 * An ordering edge to a switch default waits for the switch instead, and for whatever the
 * default itself was ordered after: the switch's consumers are released when it succeeds or
 * when its default stands in for it, while a default that is not needed is skipped, and
 * would skip everything that waits on it. Defaults are never ordered after later nodes, so
 * the recursion ends.
 */
function orderingResolver(flow: IrFlow): (id: number) => readonly number[] {
  const memo = new Map<number, readonly number[]>();
  const resolve = (id: number): readonly number[] => {
    const known = memo.get(id);
    if (known !== undefined) return known;
    const node = flow.nodes[id];
    const result = node?.fallbackFor === undefined ? [id] : [node.fallbackFor, ...node.after.flatMap(resolve)];
    memo.set(id, result);
    return result;
  };
  return resolve;
}

function taskNode(env: ExecEnv, node: IrNode, params: Readonly<Record<string, string>>, resolve: (id: number) => readonly number[]): TaskNode {
  const deps = dataDeps(node.op);
  const slot = new Map<number, number>(deps.map((d, i) => [d, i]));
  const after = [...new Set(node.after.flatMap(resolve))].filter((a) => !slot.has(a) && a !== node.id && a !== node.fallbackFor);
  const usesLlm = opUsesLlm(node.op);
  return {
    id: node.id,
    name: node.label,
    deps: [...deps, ...after],
    ...(usesLlm ? { provider: env.provider.name } : {}),
    ...(node.fallbackFor !== undefined ? { fallbackFor: node.fallbackFor } : {}),
    ...(node.op.kind === 'call' || isControl(node.op) ? { container: true } : {}),
    run: (inputs: readonly unknown[], ctx: TaskContext) => {
      const values: ArgValues = {
        ref: (id) => asText(inputs[slot.get(id) ?? -1]),
        param: (name) => params[name] ?? '',
      };
      return env.run.step(node.label, () => execNode(env, node.op, values, ctx.signal));
    },
  };
}

function opUsesLlm(op: NodeOp): boolean {
  if (op.kind === 'switch') return op.cases.some((c) => c.op.kind === 'llm' || c.op.kind === 'fused_llm');
  return op.kind === 'llm' || op.kind === 'fused_llm';
}

function execNode(env: ExecEnv, op: NodeOp, values: ArgValues, signal: AbortSignal): Promise<string | Returned> | string {
  if (isControl(op)) return execControl(env, op, values, signal);
  if (op.kind !== 'switch') return execLeaf(env, op, values, signal);
  const subject = caseKey(renderArg(op.subject, values));
  const chosen = op.cases.find((c) => caseKey(c.label) === subject);
  if (chosen === undefined) {
    const labels = op.cases.map((c) => JSON.stringify(c.label)).join(', ');
    throw new NoCaseMatchedError(`switch: ${JSON.stringify(subject.slice(0, 80))} matches no case (${labels})`);
  }
  return execLeaf(env, chosen.op, values, signal);
}

function render(args: readonly Arg[], i: number, values: ArgValues): string {
  const arg = args[i];
  return arg === undefined ? '' : renderArg(arg, values);
}

function execLeaf(env: ExecEnv, op: LeafOp, values: ArgValues, signal: AbortSignal): Promise<string> | string {
  switch (op.kind) {
    case 'llm':
      return callLlm(env, op.op, llmMessages(op.op, op.args, values), signal, op.options);
    case 'fused_llm':
      return callLlm(env, 'fused', fusedMessages(op.steps, values), signal);
    case 'print': {
      const text = op.args.map((a) => renderArg(a, values)).join(' ');
      env.print(text);
      return text;
    }
    case 'merge':
      return op.args.map((a) => renderArg(a, values)).join('\n\n');
    case 'list':
      return JSON.stringify(op.args.map((a) => renderArg(a, values)));
    case 'tool': {
      if (op.via === 'capability') {
        const input = Object.fromEntries(op.params.map((p, i) => [p, render(op.args, i, values)]));
        return callTool(env, op.tool, input, signal);
      }
      const name = render(op.args, 0, values);
      return callTool(env, name, parsePayload(name, op.args.length > 1 ? render(op.args, 1, values) : '{}'), signal);
    }
    case 'qmem':
      return env.memory.query(op.space, op.store, render(op.args, 0, values));
    case 'umem':
      return Promise.resolve(env.memory.update(op.space, op.store, render(op.args, 0, values))).then(() => '');
    case 'call':
      return runCallee(env, op, values, signal).then((r) => r.output);
    default: {
      const never: never = op;
      return never;
    }
  }
}

/** A condition's value; see `CondOp` for how text is read as true or false and compared. */
export function evalCond(cond: CondOp, values: ArgValues): boolean {
  switch (cond.test) {
    case 'truthy':
      return !FALSY.has(caseKey(renderArg(cond.a, values)));
    case '&&':
      return cond.of.every((c) => evalCond(c, values));
    case '||':
      return cond.of.some((c) => evalCond(c, values));
    case '!':
      return !evalCond(cond.of[0]!, values);
    case '==':
    case '!=': {
      const same = caseKey(renderArg(cond.a, values)) === caseKey(renderArg(cond.b, values));
      return cond.test === '==' ? same : !same;
    }
    case '<':
    case '<=':
    case '>':
    case '>=': {
      const a = renderArg(cond.a, values).trim();
      const b = renderArg(cond.b, values).trim();
      const x = Number(a);
      const y = Number(b);
      const order = a !== '' && b !== '' && Number.isFinite(x) && Number.isFinite(y) ? Math.sign(x - y) : a < b ? -1 : a > b ? 1 : 0;
      return cond.test === '<' ? order < 0 : cond.test === '<=' ? order <= 0 : cond.test === '>' ? order > 0 : order >= 0;
    }
  }
}

/** Loop items in flight when the run sets no LLM or node concurrency. */
const DEFAULT_LOOP_WIDTH = 64;

const FALSY: ReadonlySet<string> = new Set(['', 'false', 'no', '0', 'null', 'none']);

/** The items a loop runs over: a JSON array's elements (text as is, others as JSON), else the non-empty lines. */
export function loopItems(text: string): string[] {
  const trimmed = text.trim();
  if (trimmed.startsWith('[')) {
    try {
      const value: unknown = JSON.parse(trimmed);
      if (Array.isArray(value)) return value.map((v) => (typeof v === 'string' ? v : (JSON.stringify(v) ?? '')));
    } catch {
      // Not JSON after all: read it as lines.
    }
  }
  return trimmed.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
}

/**
 * Runs the flow a call or a block names, with its arguments (a loop body's first, the item,
 * given as `item`). The graph starts from a fresh microtask: dispatch is synchronous, so
 * without this a chain of calls descends in one JavaScript stack, and overflows it a few
 * hundred flows deep. Now each level costs a microtask, not stack frames.
 */
async function runCallee(env: ExecEnv, call: CallLeaf, values: ArgValues, signal: AbortSignal, item?: string): Promise<FlowRun> {
  const callee = env.plan.flows[call.callee];
  if (callee === undefined) throw new Error(`call to ${call.callee}, which is not in the plan`);
  const args = Object.fromEntries(callee.params.map((p, i) => [p, i === 0 && item !== undefined ? item : render(call.args, i, values)]));
  await Promise.resolve();
  return runFlow(env, callee, args, signal);
}

/** Runs one block flow with the values it reads; a block that reached a `return` answers `Returned`. */
async function runBlock(env: ExecEnv, block: CallLeaf, values: ArgValues, signal: AbortSignal, item?: string): Promise<string | Returned> {
  const run = await runCallee(env, block, values, signal, item);
  return run.returned ? new Returned(run.output) : run.output;
}

async function execControl(env: ExecEnv, op: ControlOp, values: ArgValues, signal: AbortSignal): Promise<string | Returned> {
  switch (op.kind) {
    case 'if': {
      const block = evalCond(op.cond, values) ? op.then : op.else;
      return block === undefined ? '' : runBlock(env, block, values, signal);
    }
    case 'loop': {
      const items = loopItems(renderArg(op.items, values));
      // Items run at once up to the run's LLM concurrency (--llm-concurrency), which bounds each
      // graph: a loop over 10,000 lines must not open 10,000 graphs of requests together.
      const width = Math.max(1, env.graph.perProvider?.[env.provider.name] ?? env.graph.concurrency ?? DEFAULT_LOOP_WIDTH);
      const results: (string | Returned)[] = new Array<string | Returned>(items.length);
      let next = 0;
      const worker = async (): Promise<void> => {
        for (let i = next++; i < items.length; i = next++) results[i] = await runBlock(env, op.body, values, signal, items[i]);
      };
      await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
      // The first item (in list order) whose body returned returns from the flow.
      return results.find((r): r is Returned => r instanceof Returned) ?? JSON.stringify(results.map((r) => (r instanceof Returned ? r.text : r)));
    }
    case 'try':
      try {
        return await runBlock(env, op.body, values, signal);
      } catch (err) {
        // A cancelled run (timeout, budget, Ctrl-C) is not the try block's failure to recover from.
        if (signal.aborted) throw err;
        return runBlock(env, op.catch, values, signal);
      }
    default: {
      const never: never = op;
      return never;
    }
  }
}

function parsePayload(tool: string, text: string): Readonly<Record<string, unknown>> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ToolPayloadError(`inv("${tool}"): the payload is not JSON (${(err as Error).message})`);
  }
  if (!isRecord(value)) throw new ToolPayloadError(`inv("${tool}"): the payload must be a JSON object`);
  return value;
}

async function callTool(env: ExecEnv, name: string, input: Readonly<Record<string, unknown>>, signal: AbortSignal): Promise<string> {
  const tool = env.tools.get(name);
  if (tool === undefined) throw new UnknownToolError(`unknown tool "${name}"; registered: ${env.tools.names().join(', ') || 'none'}`);
  const result = await env.run.toolCall(name, () => tool.run(input, { signal }));
  return typeof result === 'string' ? result : (JSON.stringify(result) ?? '');
}

async function callLlm(env: ExecEnv, phase: string, messages: ReturnType<typeof llmMessages>, signal: AbortSignal, options?: LlmOptions): Promise<string> {
  const { provider } = env;
  // `model:` and `budget_tokens:` on the op win over the run's model and the provider's default.
  const model = options?.model ?? env.model;
  const maxTokens = options?.max_tokens;
  const result = await env.run.llmCall({ model, provider: provider.name, phase, streaming: true, usage: (r) => (r as Awaited<ReturnType<typeof provider.complete>>).usage }, (call) =>
    provider.complete({ model, messages, ...(maxTokens === undefined ? {} : { maxTokens }), signal: AbortSignal.any([signal, call.signal]), onFirstToken: () => call.firstToken() }),
  );
  return result.text;
}
