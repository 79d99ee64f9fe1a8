import type { FlowEvent } from '../model/index.js';
import { checkFlowEvent } from '../model/index.js';

/**
 * One events.jsonl line as a FlowEvent, or undefined when it is not one: not JSON, or
 * not an event by the model's schema (model/event-schema.ts): a missing or non-string
 * name (which would become the label `undefined` or `[object Object]`), a token count
 * or cost past the meter's bounds, a negative or non-finite number. A malformed line is
 * skipped and counted, never recorded.
 */
export function parseFlowEvent(line: string): FlowEvent | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  return checkFlowEvent(value);
}
