/**
 * AIS lexer: source text → tokens with 1-based line/col spans.
 *
 * Whitespace (newlines included) only separates tokens: apxm accepts statements separated by
 * newlines or plain spaces, so the parser never sees line breaks. `//` starts a comment to the
 * end of the line. Strings are double-quoted, single-line, with escapes `\n \t \" \\ \u{hex}`;
 * a raw newline inside a string ends it as unterminated, which points the diagnostic at the
 * string that was left open rather than at some distant quote. Columns count code points.
 * The lexer reports bad characters and keeps going, so one typo never hides later errors.
 */
import type { Span } from './ast.js';
import type { DiagnosticBag } from './diagnostics.js';

export type TokenKind = 'ident' | 'string' | 'number' | 'punct' | 'eof';

export interface Token {
  readonly kind: TokenKind;
  /** Identifier or punctuation text; for strings, the decoded value. */
  readonly text: string;
  readonly span: Span;
}

/** Two-character operators, matched before any single character. */
const PUNCT2: ReadonlySet<string> = new Set(['->', '=>', '|>', '==', '!=', '<=', '>=', '&&', '||']);
const PUNCT = ['{', '}', '(', ')', '[', ']', ',', ':', ';', '.', '+', '@', '=', '<', '>', '!'] as const;

/**
 * `\{` and `\}` are braces that never open an interpolation (apxm's escapes): they decode to
 * two private-use characters, which the parser turns back into braces after it has looked
 * for `{{name}}` (see `restoreBraces`).
 */
export const ESCAPED_OPEN = '\uE000';
export const ESCAPED_CLOSE = '\uE001';

const ESCAPES: Readonly<Record<string, string>> = { n: '\n', t: '\t', r: '\r', '"': '"', "'": "'", '\\': '\\', '{': ESCAPED_OPEN, '}': ESCAPED_CLOSE };

/** A decoded string with its escaped braces made braces again. */
export function restoreBraces(text: string): string {
  return text.replaceAll(ESCAPED_OPEN, '{').replaceAll(ESCAPED_CLOSE, '}');
}

/** Most stray characters quoted in one error; the count says how many there were. */
const MAX_SHOWN_RUN = 16;

function punctAt(c: string, next: string): string | undefined {
  if (PUNCT2.has(c + next)) return c + next;
  return SINGLE_PUNCT.has(c) ? c : undefined;
}

const SINGLE_PUNCT: ReadonlySet<string> = new Set(PUNCT.filter((p) => p.length === 1));

/** A character no token starts with (and not whitespace or a comment, which the main loop skips). */
function isStray(c: string, next: string): boolean {
  if (c === '' || c === '"' || isSpace(c)) return false;
  if (c === '/' && next === '/') return false;
  return !isIdentStart(c) && !isDigit(c) && punctAt(c, next) === undefined;
}

function isDigit(c: string): boolean {
  return c.length === 1 && c >= '0' && c <= '9';
}

function isSpace(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v' || c === '\uFEFF';
}

// Character codes, not regular expressions: these run once or twice per character of the
// file, and a megabyte of input must lex in well under a second.
function isIdentStart(c: string): boolean {
  if (c.length !== 1) return false;
  const x = c.charCodeAt(0);
  return (x >= 97 && x <= 122) || (x >= 65 && x <= 90) || x === 95;
}

function isIdentPart(c: string): boolean {
  if (c.length !== 1) return false;
  const x = c.charCodeAt(0);
  return (x >= 97 && x <= 122) || (x >= 65 && x <= 90) || (x >= 48 && x <= 57) || x === 95;
}

/** 1-based line and column (in code points) of UTF-16 offset `offset`, counting lines as `lex` does. */
function positionOf(text: string, offset: number): { line: number; col: number } {
  let line = 1;
  let col = 1;
  for (let i = 0; i < offset; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || (c === 13 && text.charCodeAt(i + 1) !== 10)) {
      line++;
      col = 1;
    } else if (c !== 13 && !(c >= 0xdc00 && c <= 0xdfff && i > 0 && text.charCodeAt(i - 1) >= 0xd800 && text.charCodeAt(i - 1) <= 0xdbff)) {
      col++;
    }
  }
  return { line, col };
}

export function lex(text: string, diags: DiagnosticBag): Token[] {
  const nul = text.indexOf('\0');
  if (nul >= 0) {
    // NUL never appears in text: this is a binary file, and every byte of it would be an error.
    const { line, col } = positionOf(text, nul);
    diags.error({ line, col, endLine: line, endCol: col + 1 }, 'the file contains a NUL byte: this is a binary file, not an AIS workflow');
    return [{ kind: 'eof', text: '', span: { line: 1, col: 1, endLine: 1, endCol: 2 } }];
  }
  // Code points, so a column is one visible character even for emoji in prompts.
  const chars = Array.from(text);
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  let col = 1;

  const at = (k = 0): string => chars[i + k] ?? '';
  const advance = (): string => {
    const c = chars[i++] ?? '';
    if (c === '\n' || (c === '\r' && at() !== '\n')) {
      line++;
      col = 1;
    } else if (c !== '\r') {
      col++;
    }
    return c;
  };
  const spanFrom = (l: number, c: number): Span => ({ line: l, col: c, endLine: line, endCol: col });

  while (i < chars.length) {
    const c = at();
    if (isSpace(c)) {
      advance();
      continue;
    }
    if (c === '/' && at(1) === '/') {
      while (i < chars.length && at() !== '\n' && at() !== '\r') advance();
      continue;
    }
    const startLine = line;
    const startCol = col;
    if (isIdentStart(c)) {
      let name = '';
      while (i < chars.length && isIdentPart(at())) name += advance();
      tokens.push({ kind: 'ident', text: name, span: spanFrom(startLine, startCol) });
      continue;
    }
    if (c === '"') {
      tokens.push(lexString());
      continue;
    }
    // Numbers (`1000`, `0.2`): one token, so `budget_tokens: 3000` is never an error per digit.
    if (isDigit(c)) {
      let digits = '';
      while (i < chars.length && (isDigit(at()) || (at() === '.' && isDigit(at(1)) && !digits.includes('.')))) digits += advance();
      tokens.push({ kind: 'number', text: digits, span: spanFrom(startLine, startCol) });
      continue;
    }
    const punct = punctAt(c, at(1));
    if (punct !== undefined) {
      for (let k = 0; k < punct.length; k++) advance();
      tokens.push({ kind: 'punct', text: punct, span: spanFrom(startLine, startCol) });
      continue;
    }
    // A run of stray characters is one mistake (a pasted line of another language): one error.
    let run = '';
    let count = 0;
    do {
      if (count < MAX_SHOWN_RUN) run += at();
      count++;
      advance();
    } while (i < chars.length && line === startLine && isStray(at(), at(1)));
    const shown = JSON.stringify(run) + (count > MAX_SHOWN_RUN ? '…' : '');
    diags.error(spanFrom(startLine, startCol), count === 1 ? `unexpected character ${shown}` : `unexpected characters ${shown} (${count} characters)`);
  }
  tokens.push({ kind: 'eof', text: '', span: { line, col, endLine: line, endCol: col + 1 } });
  return tokens;

  function lexString(): Token {
    const startLine = line;
    const startCol = col;
    advance(); // opening quote
    let value = '';
    for (;;) {
      const ch = at();
      if (ch === '' || ch === '\n' || ch === '\r') {
        // Underline to the end of the line: the whole open string is the mistake.
        diags.error(
          { line: startLine, col: startCol, endLine: startLine, endCol: col },
          'unterminated string literal',
        );
        break;
      }
      if (ch === '"') {
        advance();
        break;
      }
      if (ch !== '\\') {
        value += advance();
        continue;
      }
      value += lexEscape();
    }
    return { kind: 'string', text: value, span: spanFrom(startLine, startCol) };
  }

  function lexEscape(): string {
    const escLine = line;
    const escCol = col;
    advance(); // backslash
    const e = at();
    const simple = ESCAPES[e];
    if (simple !== undefined) {
      advance();
      return simple;
    }
    if (e === 'u' && at(1) === '{') {
      advance();
      advance();
      let hex = '';
      while (/^[0-9A-Fa-f]$/.test(at()) && hex.length < 8) hex += advance();
      const closed = at() === '}';
      if (closed) advance();
      const code = Number.parseInt(hex, 16);
      if (!closed || hex.length === 0 || hex.length > 6 || code > 0x10ffff) {
        diags.error(spanFrom(escLine, escCol), 'invalid unicode escape: expected \\u{1 to 6 hex digits} up to 10FFFF');
        return '';
      }
      return String.fromCodePoint(code);
    }
    if (e === '' || e === '\n' || e === '\r') return ''; // the unterminated-string error follows
    advance();
    diags.error(spanFrom(escLine, escCol), `unknown escape \\${e}: use \\n, \\t, \\r, \\", \\', \\\\, \\{, \\} or \\u{...}`);
    return e;
  }
}
