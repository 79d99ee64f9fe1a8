import { describe, expect, it } from 'vitest';
import { DiagnosticBag } from '../../../src/runtime/ais/diagnostics.js';
import { lex } from '../../../src/runtime/ais/lexer.js';

function tokens(text: string): { kinds: string[]; bag: DiagnosticBag; list: ReturnType<typeof lex> } {
  const bag = new DiagnosticBag('l.ais');
  const list = lex(text, bag);
  return { kinds: list.map((t) => `${t.kind}:${t.text}`), bag, list };
}

describe('lex', () => {
  it('gives every token a 1-based line and column and ends with EOF', () => {
    const { list } = tokens('agent A {\n  ask("x") -> y\n}');
    expect(list.map((t) => [t.text, t.span.line, t.span.col, t.span.endCol])).toEqual([
      ['agent', 1, 1, 6], ['A', 1, 7, 8], ['{', 1, 9, 10],
      ['ask', 2, 3, 6], ['(', 2, 6, 7], ['x', 2, 7, 10], [')', 2, 10, 11], ['->', 2, 12, 14], ['y', 2, 15, 16],
      ['}', 3, 1, 2], ['', 3, 2, 3],
    ]);
    expect(list.at(-1)!.kind).toBe('eof');
  });

  it('reads -> and => as one token each and @ as its own', () => {
    expect(tokens('-> => @entry').kinds).toEqual(['punct:->', 'punct:=>', 'punct:@', 'ident:entry', 'eof:']);
  });

  it('decodes the escapes \\n \\t \\" \\\\ and \\u{...}', () => {
    const { list, bag } = tokens('"a\\nb\\tc\\"d\\\\e\\u{1F600}\\u{41}"');
    expect(list[0]!.text).toBe('a\nb\tc"d\\e\u{1F600}A');
    expect(bag.list).toEqual([]);
  });

  it('skips // comments to the end of the line, also inside nothing but a comment', () => {
    expect(tokens('a // b "c\n// only\nd').kinds).toEqual(['ident:a', 'ident:d', 'eof:']);
  });

  it('keeps // inside a string as text', () => {
    expect(tokens('"http://x"').list[0]!.text).toBe('http://x');
  });

  it('reports an unterminated string at its opening quote', () => {
    const { bag } = tokens('ask("open\nx');
    expect(bag.list).toEqual([
      { severity: 'error', file: 'l.ais', line: 1, col: 5, endCol: 10, message: 'unterminated string literal' },
    ]);
  });

  it('reports an unknown escape and a bad unicode escape, and keeps lexing', () => {
    const { bag, kinds } = tokens('"\\q" "\\u{110000}" z');
    expect(bag.list.map((d) => [d.col, d.message])).toEqual([
      [2, 'unknown escape \\q: use \\n, \\t, \\r, \\", \\\', \\\\, \\{, \\} or \\u{...}'],
      [7, 'invalid unicode escape: expected \\u{1 to 6 hex digits} up to 10FFFF'],
    ]);
    expect(kinds.at(-2)).toBe('ident:z');
  });

  it('reports a stray character and goes on', () => {
    const { bag, kinds } = tokens('a # b');
    expect(bag.list.map((d) => [d.line, d.col, d.message])).toEqual([[1, 3, 'unexpected character "#"']]);
    expect(kinds).toEqual(['ident:a', 'ident:b', 'eof:']);
  });

  it('counts a column per code point, so an emoji is one column', () => {
    const { list } = tokens('"😀" x');
    expect(list[1]!.span.col).toBe(5);
  });

  it('counts CRLF and lone CR as one line break each', () => {
    expect(tokens('a\r\nb\rc').list.slice(0, 3).map((t) => [t.text, t.span.line, t.span.col])).toEqual([
      ['a', 1, 1], ['b', 2, 1], ['c', 3, 1],
    ]);
  });
});
