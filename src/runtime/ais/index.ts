/**
 * The AIS front end: `compileSource(file, text)` → checked program and diagnostics.
 *
 * It never throws (STYLE.md 7: the compiler answers with `file:line:col: message`, never a
 * stack trace). Semantic checks run only on a file without syntax errors: a statement that
 * failed to parse would otherwise show up again as undefined variables, unused values and
 * missing entries, burying the real mistake.
 */
import type { Program } from './ast.js';
import { check } from './checker.js';
import type { CheckedProgram } from './checker.js';
import type { Diagnostic } from './diagnostics.js';
import { DiagnosticBag } from './diagnostics.js';
import { lex } from './lexer.js';
import { parse } from './parser.js';

export interface CompileResult {
  /** Present when there are no errors (warnings allowed). */
  readonly program?: CheckedProgram;
  /** The syntax tree, also when it has errors: tools such as formatters can still use it. */
  readonly ast?: Program;
  /** Sorted by position; the first `DEFAULT_DIAGNOSTIC_LIMIT` when there were more. */
  readonly diagnostics: Diagnostic[];
  /** How many diagnostics were reported beyond those in `diagnostics` (0 when all are there). */
  readonly omitted: number;
}

export function compileSource(file: string, text: string): CompileResult {
  const diags = new DiagnosticBag(file);
  try {
    const tokens = lex(text, diags);
    const ast = parse(file, tokens, diags);
    if (diags.hasErrors()) return { ast, diagnostics: diags.finish(), omitted: diags.omitted };
    const program = check(ast, diags);
    return { program, ast, diagnostics: diags.finish(), omitted: diags.omitted };
  } catch (e) {
    // A bug in the front end must still come out as a diagnostic, not a crash.
    const reason = e instanceof Error ? e.message : String(e);
    const internal: Diagnostic = { severity: 'error', file, line: 1, col: 1, message: `internal compiler error: ${reason}` };
    return { diagnostics: [...diags.finish(), internal], omitted: diags.omitted };
  }
}

export { DEFAULT_DIAGNOSTIC_LIMIT, formatDiagnostic, formatDiagnostics } from './diagnostics.js';
export { classifyCall, BUILTIN_OPS, LLM_OPS, MEMORY_SPACES } from './ops.js';
export type { Diagnostic, Severity } from './diagnostics.js';
export type { CheckedProgram, EntryPoint } from './checker.js';
export type { BuiltinOp, CallKind, LlmOp, MemorySpace } from './ops.js';
export type {
  Agent, Capability, Concat, Expr, Flow, Memory, MemoryEntry, Name, OpCall, Param, Program, Return, Span,
  Statement, StringLit, Switch, SwitchCase, VarRef,
} from './ast.js';
