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
