import { describe, expect, it } from 'vitest';
import { DEFAULT_DIAGNOSTIC_LIMIT, DiagnosticBag, MAX_ECHOED_LINE, formatDiagnostic } from '../../../src/runtime/ais/diagnostics.js';
import type { Diagnostic } from '../../../src/runtime/ais/diagnostics.js';

const base: Diagnostic = { severity: 'error', file: 'f.ais', line: 2, col: 3, endCol: 6, message: 'bad' };

describe('formatDiagnostic', () => {
  it('prints file:line:col: severity: message, the source line and carets under the span', () => {
    expect(formatDiagnostic(base, 'one\n  abcdef\nthree')).toBe('f.ais:2:3: error: bad\n  abcdef\n  ^^^');
  });

  it('draws one caret when there is no end column', () => {
    const { endCol: _omit, ...noEnd } = base;
    expect(formatDiagnostic({ ...noEnd, severity: 'warning' }, 'x\n  abc')).toBe('f.ais:2:3: warning: bad\n  abc\n  ^');
  });

  it('keeps tabs before the span so the caret lines up in a terminal', () => {
    expect(formatDiagnostic({ ...base, col: 2, endCol: 3 }, 'x\n\tq')).toBe('f.ais:2:2: error: bad\n\tq\n\t^');
  });

  it('clamps a span that runs past the end of the line', () => {
    expect(formatDiagnostic({ ...base, endCol: 99 }, 'x\n  ab')).toBe('f.ais:2:3: error: bad\n  ab\n  ^^');
  });

  it('puts one caret after the last character for an end-of-file position', () => {
    expect(formatDiagnostic({ ...base, line: 1, col: 4, endCol: 5 }, 'abc')).toBe('f.ais:1:4: error: bad\nabc\n   ^');
  });

  it('prints only the header when the line does not exist', () => {
    expect(formatDiagnostic({ ...base, line: 9 }, 'x')).toBe('f.ais:9:3: error: bad');
  });
});

describe('DiagnosticBag', () => {
  const at = (line: number, col: number) => ({ line, col, endLine: line, endCol: col + 1 });

  it('keeps the first diagnostics by position and counts every one', () => {
    const bag = new DiagnosticBag('f.ais', 3);
    for (let line = 10; line >= 1; line--) bag.error(at(line, 1), `e${line}`);
    bag.warning(at(20, 1), 'w');
    expect(bag.finish().map((d) => d.message)).toEqual(['e1', 'e2', 'e3']);
    expect([bag.errorCount, bag.warningCount, bag.omitted]).toEqual([10, 1, 8]);
    expect(bag.hasErrors()).toBe(true);
  });

  it('keeps a million errors in bounded memory, in order', () => {
    const bag = new DiagnosticBag('f.ais');
    for (let i = 1; i <= 1_000_000; i++) bag.error(at(i, 1), 'bad');
    const kept = bag.finish();
    expect(kept.length).toBe(DEFAULT_DIAGNOSTIC_LIMIT);
    expect(kept.at(-1)!.line).toBe(DEFAULT_DIAGNOSTIC_LIMIT);
    expect(bag.omitted).toBe(1_000_000 - DEFAULT_DIAGNOSTIC_LIMIT);
  });
});

describe('formatDiagnostic on hostile text', () => {
  it('replaces control characters in the echoed line, one U+FFFD each, so carets still line up', () => {
    const d: Diagnostic = { severity: 'error', file: 'f.ais', line: 1, col: 4, endCol: 5, message: 'bad' };
    expect(formatDiagnostic(d, '\u001b]0x\u0007')).toBe('f.ais:1:4: error: bad\n\ufffd]0x\ufffd\n   ^');
  });

  it('escapes control and bidirectional characters in the message', () => {
    const d: Diagnostic = { severity: 'error', file: 'f.ais', line: 9, col: 1, message: 'duplicate case "\u009b2J\u202e"' };
    expect(formatDiagnostic(d, '')).toBe('f.ais:9:1: error: duplicate case "\\u{9b}2J\\u{202e}"');
  });

  it('counts columns in code points, so an emoji before the span does not shift the carets', () => {
    const d: Diagnostic = { severity: 'error', file: 'f.ais', line: 1, col: 3, endCol: 4, message: 'bad' };
    expect(formatDiagnostic(d, '😀 #')).toBe('f.ais:1:3: error: bad\n😀 #\n  ^');
  });

  it('shows a window of a long line around the span', () => {
    const line = `${'a'.repeat(1000)}#${'b'.repeat(1000)}`;
    const d: Diagnostic = { severity: 'error', file: 'f.ais', line: 1, col: 1001, endCol: 1002, message: 'bad' };
    const [, echoed, carets] = formatDiagnostic(d, line).split('\n');
    expect(echoed!.length).toBe(MAX_ECHOED_LINE + 2);
    expect(echoed!.startsWith('…a') && echoed!.endsWith('b…')).toBe(true);
    expect(echoed![carets!.indexOf('^')]).toBe('#');
    expect(carets!.trim()).toBe('^');
  });
});
