/**
 * Token cursor for the recursive-descent parser, with panic-mode recovery.
 *
 * A syntax error is reported once, then `SyntaxAbort` unwinds to the nearest statement or
 * member loop, which skips to a safe restart point (`recoverTo`). That is the classic
 * recovery of hand-written parsers (Wirth; rustc and tsc do a refined version): it reports
 * several independent errors per file without a cascade of follow-on noise.
 */
import type { Name, Span } from './ast.js';
import type { DiagnosticBag } from './diagnostics.js';
import type { Token } from './lexer.js';

/** Thrown after a syntax error has been reported; caught by the parser's loops only. */
export class SyntaxAbort extends Error {}

/**
 * The one instance thrown: the error is already in the bag, and capturing a stack trace per
 * syntax error costs microseconds each, which a file of garbage (a million of them) turns
 * into seconds.
 */
const ABORT = new SyntaxAbort('syntax error (reported in the diagnostics)');

export const KEYWORDS: ReadonlySet<string> = new Set([
  'agent', 'flow', 'return', 'switch', 'case', 'default', 'capability', 'tools', 'memory', 'let',
  'if', 'else', 'loop', 'try', 'catch', 'parallel', 'true', 'false', 'null',
]);

export function describe(t: Token): string {
  switch (t.kind) {
    case 'eof':
      return 'end of file';
    case 'string':
      return 'a string';
    case 'number':
      return `the number ${t.text}`;
    case 'ident':
      return KEYWORDS.has(t.text) ? `'${t.text}'` : `identifier "${t.text}"`;
    case 'punct':
      return `'${t.text}'`;
    default: {
      const never: never = t.kind;
      return String(never);
    }
  }
}

export class TokenCursor {
  private pos = 0;

  constructor(
    private readonly tokens: readonly Token[],
    readonly diags: DiagnosticBag,
  ) {}

  peek(offset = 0): Token {
    // The lexer always ends with EOF, so clamping there makes reading past the end harmless.
    const last = this.tokens[this.tokens.length - 1]!;
    return this.tokens[this.pos + offset] ?? last;
  }

  get index(): number {
    return this.pos;
  }

  next(): Token {
    const t = this.peek();
    if (t.kind !== 'eof') this.pos++;
    return t;
  }

  /** The span of the token just consumed, to close a node's span. */
  previousSpan(): Span {
    return (this.tokens[this.pos - 1] ?? this.peek()).span;
  }

  /** True when the next token is the punctuation or keyword `text` (never a string). */
  at(text: string, offset = 0): boolean {
    const t = this.peek(offset);
    return (t.kind === 'punct' || t.kind === 'ident') && t.text === text;
  }

  eat(text: string): Token | undefined {
    return this.at(text) ? this.next() : undefined;
  }

  expect(text: string): Token {
    const t = this.eat(text);
    if (t !== undefined) return t;
    return this.fail(`expected '${text}', found ${describe(this.peek())}`);
  }

  /** An identifier that is not a keyword; `what` names it in the error ("a flow name"). */
  expectName(what: string): Name {
    const t = this.peek();
    if (t.kind === 'ident' && !KEYWORDS.has(t.text)) {
      this.next();
      return { name: t.text, span: t.span };
    }
    return this.fail(`expected ${what}, found ${describe(t)}`);
  }

  fail(message: string, span: Span = this.peek().span): never {
    this.diags.error(span, message);
    throw ABORT;
  }

  /**
   * Skips to a restart point: one of `stops` or a `}` at brace depth 0, just past a `;`, or
   * EOF. With `lineOf`, an identifier on a later line than `lineOf` also restarts, because
   * statements need no separator and a new line is the best hint that one has begun.
   * Callers guarantee progress themselves (they skip one token if nothing was consumed).
   */
  recoverTo(stops: ReadonlySet<string>, lineOf?: number): void {
    let depth = 0;
    for (;;) {
      const t = this.peek();
      if (t.kind === 'eof') return;
      const text = t.kind === 'string' ? '' : t.text;
      if (depth === 0) {
        if (stops.has(text) || text === '}') return;
        if (lineOf !== undefined && t.kind === 'ident' && t.span.line > lineOf) return;
        if (text === ';') {
          this.next();
          return;
        }
      }
      if (text === '{') depth++;
      if (text === '}') depth--;
      this.next();
    }
  }
}
