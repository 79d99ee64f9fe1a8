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

export type TokenKind = 'ident' | 'string' | 'punct' | 'eof';

export interface Token {
  readonly kind: TokenKind;
  /** Identifier or punctuation text; for strings, the decoded value. */
  readonly text: string;
  readonly span: Span;
}

/** Longest match first: `->` and `=>` before any single character. */
const PUNCT = ['->', '=>', '{', '}', '(', ')', '[', ']', ',', ':', ';', '.', '+', '@'] as const;

const ESCAPES: Readonly<Record<string, string>> = { n: '\n', t: '\t', '"': '"', '\\': '\\' };

function isIdentStart(c: string): boolean {
  return /^[A-Za-z_]$/.test(c);
}

function isIdentPart(c: string): boolean {
  return /^[A-Za-z0-9_]$/.test(c);
}

export function lex(text: string, diags: DiagnosticBag): Token[] {
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
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v' || c === '\uFEFF') {
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
    const punct = PUNCT.find((p) => chars.slice(i, i + p.length).join('') === p);
    if (punct !== undefined) {
      for (let k = 0; k < punct.length; k++) advance();
      tokens.push({ kind: 'punct', text: punct, span: spanFrom(startLine, startCol) });
      continue;
    }
    advance();
    diags.error(spanFrom(startLine, startCol), `unexpected character ${JSON.stringify(c)}`);
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
    diags.error(spanFrom(escLine, escCol), `unknown escape \\${e}: use \\n, \\t, \\", \\\\ or \\u{...}`);
    return e;
  }
}
