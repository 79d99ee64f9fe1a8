import type { FlowEvent, FlowEventKind } from '../model/index.js';

// Where each kind carries its run id. A Record over every kind, so a kind added to the
// model fails to compile here instead of being skipped as malformed.
const RUN_ID_AT: Readonly<Record<FlowEventKind, 'run' | 'top'>> = {
  run_started: 'run',
  run_finished: 'run',
  step_started: 'top',
  step_finished: 'top',
  llm_call: 'top',
  tool_call: 'top',
  retry: 'top',
  tokens: 'top',
};

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * One events.jsonl line as a FlowEvent, or undefined when it is not one (not JSON, no
 * known `kind`, no run id). Only the envelope is checked here; the Prometheus view counts
 * an event whose fields it cannot record (`rejectedEvents`).
 */
export function parseFlowEvent(line: string): FlowEvent | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (!isObject(value) || typeof value.kind !== 'string') return undefined;
  if (!Object.hasOwn(RUN_ID_AT, value.kind)) return undefined;
  const holder = RUN_ID_AT[value.kind as FlowEventKind] === 'run' ? value.run : value;
  return isObject(holder) && typeof holder.run_id === 'string' ? (value as unknown as FlowEvent) : undefined;
}
