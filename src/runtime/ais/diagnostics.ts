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

/**
 * How many diagnostics a bag keeps by default. A hostile file (a megabyte of binary, a
 * JavaScript file) produces one error every few characters; keeping the first ones by
 * position and counting the rest keeps memory and output bounded while every count stays
 * exact.
 */
export const DEFAULT_DIAGNOSTIC_LIMIT = 200;

/** Collects diagnostics for one file; lexer, parser and checker all append to the same bag. */
export class DiagnosticBag {
  /** The kept diagnostics: at most `limit` after `finish()`, the first by position. */
  readonly list: Diagnostic[] = [];
  /** Every error reported, kept or not. */
  errorCount = 0;
  /** Every warning reported, kept or not. */
  warningCount = 0;
  /** Diagnostics reported but not kept (beyond `limit`). */
  omitted = 0;

  constructor(
    readonly file: string,
    readonly limit: number = DEFAULT_DIAGNOSTIC_LIMIT,
  ) {}

  error(span: Span, message: string): void {
    this.add('error', span, message);
  }

  warning(span: Span, message: string): void {
    this.add('warning', span, message);
  }

  hasErrors(): boolean {
    return this.errorCount > 0;
  }

  /** The kept diagnostics sorted by position, at most `limit` of them. */
  finish(): Diagnostic[] {
    this.trim();
    return this.list;
  }

  /** Once full: the position of the last kept diagnostic; anything at or after it is only counted. */
  private cutoff: { line: number; col: number } | undefined;

  private add(severity: Severity, span: Span, message: string): void {
    if (severity === 'error') this.errorCount++;
    else this.warningCount++;
    const cut = this.cutoff;
    if (cut !== undefined && (span.line > cut.line || (span.line === cut.line && span.col >= cut.col))) {
      this.omitted++;
      return;
    }
    const at = { severity, file: this.file, line: span.line, col: span.col, message };
    // `endCol` describes the first line only; a span that runs on gets a single caret.
    this.list.push(span.endLine === span.line ? { ...at, endCol: span.endCol } : at);
    // Trimming at twice the limit sorts `limit` items per `limit` added: n log(limit) in all.
    if (this.list.length >= 2 * this.limit) this.trim();
  }

  private trim(): void {
    const sorted = sortDiagnostics(this.list);
    const dropped = Math.max(0, sorted.length - this.limit);
    this.omitted += dropped;
    this.list.length = 0;
    for (let i = 0; i < sorted.length - dropped; i++) this.list.push(sorted[i]!);
    const last = this.list[this.list.length - 1];
    if (dropped > 0 && last !== undefined) this.cutoff = { line: last.line, col: last.col };
  }
}

/** Orders diagnostics by position so a reader meets them top to bottom; the sort is stable. */
export function sortDiagnostics(list: readonly Diagnostic[]): Diagnostic[] {
  return [...list].sort((a, b) => a.line - b.line || a.col - b.col);
}

/** Longest source line echoed under a diagnostic, in characters; longer ones show a window around the span. */
export const MAX_ECHOED_LINE = 160;

/**
 * C0 and C1 control characters (tab excepted), DEL, and the bidirectional overrides and
 * isolates ("Trojan Source", CVE-2021-42574): echoed as they are, `ESC]0;...` retitles the
 * terminal and a CSI sequence moves the cursor or rewrites what the reader sees.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;

/** A source line made safe for a terminal: each unsafe character becomes one U+FFFD, so columns still line up. */
export function safeSourceLine(line: string): string {
  return line.replace(UNSAFE, '\ufffd');
}

/** Message text made safe for a terminal: unsafe characters as `\u{hex}` escapes. */
export function safeMessage(text: string): string {
  return text.replace(UNSAFE, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`);
}

/** Line starts of one text, computed once, so looking up a line is O(1) instead of a split per diagnostic. */
class LineIndex {
  private readonly starts: number[] = [0];

  constructor(readonly text: string) {
    const re = /\r\n|\r|\n/g;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) this.starts.push(m.index + m[0].length);
  }

  /** Line `n` (1-based) without its line break, or undefined past the end. */
  line(n: number): string | undefined {
    const start = this.starts[n - 1];
    if (start === undefined) return undefined;
    const next = this.starts[n];
    if (next === undefined) return this.text.slice(start);
    // Drop the line break that ends the line: \n, \r or \r\n.
    const end = this.text.charCodeAt(next - 1) === 10 && this.text.charCodeAt(next - 2) === 13 ? next - 2 : next - 1;
    return this.text.slice(start, end);
  }
}

// One entry: a CLI formats every diagnostic of one source text in a row.
let lastIndex: LineIndex | undefined;

function lineIndex(text: string): LineIndex {
  if (lastIndex?.text !== text) lastIndex = new LineIndex(text);
  return lastIndex;
}

// The code points of the last long line echoed: diagnostics come sorted, so several in a row share a line.
let lastLong: { source: string; chars: string[] } | undefined;

function codePoints(source: string): string[] {
  if (lastLong?.source !== source) lastLong = { source, chars: Array.from(source) };
  return lastLong.chars;
}

/**
 * The source line to echo and the 1-based columns of the span in it. Columns count code
 * points, as the lexer does. A line longer than `MAX_ECHOED_LINE` is cut to a window around
 * the span, with `…` where text was left out.
 */
function echoLine(source: string, col: number, endCol: number | undefined): { text: string; start: number; end: number } {
  const chars = source.length > MAX_ECHOED_LINE ? codePoints(source) : Array.from(source);
  const start = Math.max(1, Math.min(col, chars.length + 1));
  const end = Math.max(start + 1, Math.min(endCol ?? start + 1, chars.length + 1));
  if (chars.length <= MAX_ECHOED_LINE) return { text: source, start, end };
  // Start the window a little before the span so the reader sees what led up to it.
  const from = Math.max(0, Math.min(start - 1 - 40, chars.length - MAX_ECHOED_LINE));
  const to = Math.min(chars.length, from + MAX_ECHOED_LINE);
  const head = from > 0 ? '…' : '';
  const tail = to < chars.length ? '…' : '';
  const shift = head.length - from;
  return { text: head + chars.slice(from, to).join('') + tail, start: start + shift, end: Math.min(end + shift, to + shift + 1) };
}

/**
 * `file:line:col: error: message`, then the source line, then a caret line under the span.
 * Tabs before the span are copied into the caret line so the carets line up in a terminal.
 * Control characters never reach the terminal: the message escapes them and the source line
 * shows U+FFFD in their place.
 */
export function formatDiagnostic(d: Diagnostic, sourceText: string): string {
  const header = safeMessage(`${d.file}:${d.line}:${d.col}: ${d.severity}: ${d.message}`);
  const source = lineIndex(sourceText).line(d.line);
  if (source === undefined) return header;
  const echo = echoLine(source, d.col, d.endCol);
  const width = Math.max(1, echo.end - echo.start);
  const pad = Array.from(echo.text).slice(0, echo.start - 1).map((c) => (c === '\t' ? c : ' ')).join('');
  return `${header}\n${safeSourceLine(echo.text)}\n${pad}${'^'.repeat(width)}`;
}

/** Formats every diagnostic, one block per diagnostic, separated by newlines. */
export function formatDiagnostics(list: readonly Diagnostic[], sourceText: string): string {
  return list.map((d) => formatDiagnostic(d, sourceText)).join('\n');
}
