import type { FlowEvent } from '../model/index.js';

/**
 * Sinks never throw out of `write` for expected failures (zerg: "logging failures never
 * crash commis execution"); they hand the error to the `onError` option and go on.
 */
export type ErrorHandler = (err: unknown) => void;

/** The default handler: the meter counts failures through its own handler when it passes one. */
export function ignoreError(): void {}

/** Calls the user's error callback; a throw from the callback must not escape the sink either. */
export function reportError(onError: ErrorHandler, err: unknown): void {
  try {
    onError(err);
  } catch {
    // The error channel itself failed; there is nobody left to tell.
  }
}

/**
 * A sink's `write` for sinks that take events one at a time: after `close` (when `closedName`
 * is set) the batch is dropped and counted; otherwise each event is handed to `take`, and one
 * that throws costs that event only.
 */
export function writeEach(events: readonly FlowEvent[], closedName: string | null, onError: ErrorHandler, take: (event: FlowEvent) => void): void {
  if (closedName !== null) {
    if (events.length > 0) reportError(onError, new Error(`${closedName} is closed; dropped ${events.length} events`));
    return;
  }
  for (const event of events) {
    try {
      take(event);
    } catch (err) {
      reportError(onError, err);
    }
  }
}
