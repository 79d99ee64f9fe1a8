/**
 * Compiler diagnostics for the AIS front end.
 *
 * The compiler answers with `file:line:col: severity: message` (STYLE.md 7), the shape gcc,
 * clang and tsc use, so editors and CI annotators can jump to the spot. Lines and columns are
 * 1-based; `endCol` is exclusive and only meaningful on `line`.
 */
import type { Span } from './ast.js';

export type Severity = 'error' | 'warning';

export interface Diagnostic {
  readonly severity: Severity;
  readonly file: string;
  readonly line: number;
  readonly col: number;
  readonly endCol?: number;
  readonly message: string;
}

/** Collects diagnostics for one file; lexer, parser and checker all append to the same bag. */
export class DiagnosticBag {
  readonly list: Diagnostic[] = [];

  constructor(readonly file: string) {}

  error(span: Span, message: string): void {
    this.add('error', span, message);
  }

  warning(span: Span, message: string): void {
    this.add('warning', span, message);
  }

  hasErrors(): boolean {
    return this.list.some((d) => d.severity === 'error');
  }

  private add(severity: Severity, span: Span, message: string): void {
    const at = { severity, file: this.file, line: span.line, col: span.col, message };
    // `endCol` describes the first line only; a span that runs on gets a single caret.
    this.list.push(span.endLine === span.line ? { ...at, endCol: span.endCol } : at);
  }
}

/** Orders diagnostics by position so a reader meets them top to bottom; the sort is stable. */
export function sortDiagnostics(list: readonly Diagnostic[]): Diagnostic[] {
  return [...list].sort((a, b) => a.line - b.line || a.col - b.col);
}

/**
 * `file:line:col: error: message`, then the source line, then a caret line under the span.
 * Tabs before the span are copied into the caret line so the carets line up in a terminal.
 */
export function formatDiagnostic(d: Diagnostic, sourceText: string): string {
  const header = `${d.file}:${d.line}:${d.col}: ${d.severity}: ${d.message}`;
  const lines = sourceText.split(/\r\n|\r|\n/);
  const source = lines[d.line - 1];
  if (source === undefined) return header;
  const start = Math.max(1, Math.min(d.col, source.length + 1));
  const end = Math.min(d.endCol ?? start + 1, source.length + 1);
  const width = Math.max(1, end - start);
  const pad = source.slice(0, start - 1).replace(/[^\t]/g, ' ');
  return `${header}\n${source}\n${pad}${'^'.repeat(width)}`;
}

/** Formats every diagnostic, one block per diagnostic, separated by newlines. */
export function formatDiagnostics(list: readonly Diagnostic[], sourceText: string): string {
  return list.map((d) => formatDiagnostic(d, sourceText)).join('\n');
}
