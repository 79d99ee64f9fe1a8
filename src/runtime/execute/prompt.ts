/**
 * How the IR's string arguments and LLM ops become text and chat messages.
 *
 * An argument is rendered by concatenating its parts. An LLM op sends a system message that
 * says what kind of step it is (apxm's six ops differ only in intent) and a user message with
 * the template followed by each context value under its own heading. A fused chain sends one
 * request whose prompt lists every step in order; a step that read the previous step's answer
 * refers to it by number, and the model replies with the last step's result only.
 */
import type { LlmOp } from '../ais/ops.js';
import type { Arg, FusedStep } from '../ir/plan.js';
import type { ChatMessage } from '../providers/provider.js';

/** Resolves the non-literal parts of an argument. */
export interface ArgValues {
  ref(id: number): string;
  param(name: string): string;
  /** Inside a fused step: how the previous step's answer is written in the prompt. */
  prev?(): string;
}

export const OP_INSTRUCTIONS: Readonly<Record<LlmOp, string>> = {
  ask: 'Answer the request.',
  think: 'Think the problem through step by step, then state your conclusion.',
  reason: 'Reason from the given context to a justified answer.',
  plan: 'Produce a short numbered plan.',
  reflect: 'Reflect critically on the given material: what is weak, missing or wrong.',
  verify: 'Check the material for correctness; say what holds and what does not.',
};

/** What a control node answers when its block reached a `return`: the value the enclosing flow returns. */
export class Returned {
  constructor(readonly text: string) {}
}

/** A node's output as AIS text: nodes return strings; anything else (a user's test node) as JSON. */
export function asText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value instanceof Returned) return value.text;
  return value === undefined ? '' : (JSON.stringify(value) ?? '');
}

export function renderArg(arg: Arg, values: ArgValues): string {
  let out = '';
  for (const part of arg) {
    if ('text' in part) out += part.text;
    else if ('ref' in part) out += values.ref(part.ref);
    else if ('param' in part) out += values.param(part.param);
    else if (values.prev !== undefined) out += values.prev();
    else throw new Error('a previous-step reference outside a fused LLM call');
  }
  return out;
}

/** The template, then each context value under "Context n:". */
function requestText(args: readonly Arg[], values: ArgValues): string {
  const [template = [], ...context] = args;
  let text = renderArg(template, values);
  context.forEach((arg, i) => {
    text += `\n\nContext ${i + 1}:\n${renderArg(arg, values)}`;
  });
  return text;
}

export function llmMessages(op: LlmOp, args: readonly Arg[], values: ArgValues): ChatMessage[] {
  return [
    { role: 'system', content: OP_INSTRUCTIONS[op] },
    { role: 'user', content: requestText(args, values) },
  ];
}

export const FUSED_INSTRUCTION = 'Carry out the steps below in order. A step may use the result of the step before it. Reply with the result of the last step only.';

export function fusedMessages(steps: readonly FusedStep[], values: ArgValues): ChatMessage[] {
  const parts = steps.map((step, i) => {
    const stepValues: ArgValues = { ...values, prev: () => `[the result of step ${i}]` };
    return `Step ${i + 1} (${step.op}: ${OP_INSTRUCTIONS[step.op]})\n${requestText(step.args, stepValues)}`;
  });
  return [
    { role: 'system', content: FUSED_INSTRUCTION },
    { role: 'user', content: parts.join('\n\n') },
  ];
}
