/**
 * Limits of the compiler, and the error that reports one at a place in the source.
 *
 * A limit is a property of the program, not a bug: it comes back as
 * `file:line:col: error: message` (STYLE.md 7), not as an internal compiler error.
 */
import type { SourcePos } from './plan.js';

/**
 * Most nodes one flow may have after inlining at -O1. Inlining copies a callee's nodes at
 * every call site, so a flow called twice by a flow called twice... doubles per level; past
 * this the plan would not fit in memory long before it ran.
 */
export const MAX_INLINED_NODES = 1_000_000;

/** The program is too large for a limit of the compiler; `pos` is where in the source. */
export class CompileLimitError extends Error {
  override readonly name = 'CompileLimitError';
  constructor(
    message: string,
    readonly pos: SourcePos,
  ) {
    super(message);
  }
}
