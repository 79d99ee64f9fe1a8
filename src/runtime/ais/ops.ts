/**
 * The built-in AIS operations and what kind of call a statement is.
 *
 * apxm's op set: six LLM ops that share one signature (a template, then any number of
 * context values), `print`, `merge`, `inv` (invoke a tool by name with a JSON payload) and the
 * memory ops `qmem`/`umem`. Any other bare name is a capability call; `Agent.flow(...)` is a
 * cross-agent call. Later stages (IR, scheduler) switch over `CallKind`.
 */
import type { OpCall } from './ast.js';

export const LLM_OPS = ['ask', 'think', 'reason', 'plan', 'reflect', 'verify'] as const;
export type LlmOp = (typeof LLM_OPS)[number];

export const BUILTIN_OPS = [...LLM_OPS, 'print', 'merge', 'inv', 'qmem', 'umem'] as const;
export type BuiltinOp = (typeof BUILTIN_OPS)[number];

/** The memory tiers apxm implements; a `qmem`/`umem` space must name one (or a memory entry). */
export const MEMORY_SPACES = ['stm', 'ltm', 'episodic'] as const;
export type MemorySpace = (typeof MEMORY_SPACES)[number];

export type CallKind =
  | { readonly kind: 'llm'; readonly op: LlmOp }
  | { readonly kind: 'print' }
  | { readonly kind: 'merge' }
  | { readonly kind: 'inv' }
  | { readonly kind: 'qmem' }
  | { readonly kind: 'umem' }
  | { readonly kind: 'capability'; readonly name: string }
  | { readonly kind: 'flow'; readonly agent: string; readonly flow: string };

export function isBuiltinOp(name: string): name is BuiltinOp {
  return (BUILTIN_OPS as readonly string[]).includes(name);
}

export function isMemorySpace(name: string): name is MemorySpace {
  return (MEMORY_SPACES as readonly string[]).includes(name);
}

export function classifyCall(call: OpCall): CallKind {
  if (call.agent !== undefined) return { kind: 'flow', agent: call.agent.name, flow: call.op.name };
  const name = call.op.name;
  if (!isBuiltinOp(name)) return { kind: 'capability', name };
  switch (name) {
    case 'ask':
    case 'think':
    case 'reason':
    case 'plan':
    case 'reflect':
    case 'verify':
      return { kind: 'llm', op: name };
    case 'print':
    case 'merge':
    case 'inv':
    case 'qmem':
    case 'umem':
      return { kind: name };
    default: {
      const never: never = name;
      return never;
    }
  }
}
