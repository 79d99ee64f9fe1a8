/**
 * Source text → optimized plan: the AIS front end, lowering and the passes in one call.
 *
 * Never throws, like `compileSource`: a bug in lowering or a pass comes back as an
 * "internal compiler error" diagnostic, so the CLI still answers with `file:line:col`.
 */
import { compileSource } from '../ais/index.js';
import type { Diagnostic } from '../ais/index.js';
import { CompileLimitError } from './limits.js';
import { lowerProgram } from './lower.js';
import { optimize } from './optimize.js';
import type { OptLevel, Plan } from './plan.js';

export interface PlanCompileResult {
  /** Present when the source has no errors. */
  readonly plan?: Plan;
  /** Errors and warnings, sorted by position (the first ones when there were many). */
  readonly diagnostics: readonly Diagnostic[];
  /** Diagnostics reported beyond those in `diagnostics`. */
  readonly omitted: number;
}

export function compilePlan(file: string, text: string, level: OptLevel, compilerVersion: string): PlanCompileResult {
  const front = compileSource(file, text);
  if (front.program === undefined) return { diagnostics: front.diagnostics, omitted: front.omitted };
  try {
    const plan = optimize(lowerProgram(front.program, text, file, compilerVersion, front.diagnostics), level);
    return { plan, diagnostics: front.diagnostics, omitted: front.omitted };
  } catch (e) {
    if (e instanceof CompileLimitError) {
      const limit: Diagnostic = { severity: 'error', file, line: e.pos.line, col: e.pos.col, message: e.message };
      return { diagnostics: [...front.diagnostics, limit], omitted: front.omitted };
    }
    const reason = e instanceof Error ? e.message : String(e);
    const internal: Diagnostic = { severity: 'error', file, line: 1, col: 1, message: `internal compiler error: ${reason}` };
    return { diagnostics: [...front.diagnostics, internal], omitted: front.omitted };
  }
}
