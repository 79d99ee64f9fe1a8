import { describe, expect, it } from 'vitest';
import { formatLogfmt, logfmtPair, logfmtValue } from '../../src/sinks/index.js';

describe('logfmt', () => {
  it('writes plain values bare', () => {
    expect(formatLogfmt({ tool: 'ssh_exec', duration_ms: 1234, success: true, ok: false })).toBe(
      'tool=ssh_exec duration_ms=1234 success=true ok=false',
    );
  });

  it('prints numbers as JavaScript does', () => {
    expect(logfmtValue(0.5)).toBe('0.5');
    expect(logfmtValue(1e-7)).toBe('1e-7');
  });

  it('omits null and undefined values', () => {
    expect(formatLogfmt({ a: 1, b: null, c: undefined, d: 'x' })).toBe('a=1 d=x');
    expect(logfmtPair('step_id', null)).toBe('');
  });

  it.each([
    ['connection refused', '"connection refused"'],
    ['a=b', '"a=b"'],
    ['say "hi"', '"say \\"hi\\""'],
    ['line one\nline two', '"line one\\nline two"'],
    ['tab\there', '"tab\\there"'],
    ['back\\slash "q"', '"back\\\\slash \\"q\\""'],
    ['bell\u0007', '"bell\\u0007"'],
    ['', '""'],
  ])('quotes %j as %s', (value, encoded) => {
    expect(logfmtValue(value)).toBe(encoded);
  });

  it('leaves a backslash without other special characters unquoted', () => {
    expect(logfmtValue('C:\\tmp')).toBe('C:\\tmp');
  });

  it('keeps a quoted value on one line and inside one field', () => {
    const line = formatLogfmt({ error: 'x=1 "y"\nz', next: 'ok' });
    expect(line).not.toContain('\n');
    expect(line.endsWith(' next=ok')).toBe(true);
  });
});
