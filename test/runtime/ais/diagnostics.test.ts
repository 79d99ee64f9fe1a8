import { describe, expect, it } from 'vitest';
import { formatDiagnostic } from '../../../src/runtime/ais/diagnostics.js';
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
