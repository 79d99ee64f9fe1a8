import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileSource, formatDiagnostics } from '../../../src/runtime/ais/index.js';
import { mulberry32 } from './helpers.js';

const EXAMPLES = new URL('../../../examples/workflows/', import.meta.url);
const sources = readdirSync(EXAMPLES).filter((f) => f.endsWith('.ais')).map((f) => readFileSync(new URL(f, EXAMPLES), 'utf8'));
/** Characters the grammar cares about, so random text often gets deep into the parser. */
const ALPHABET = ['agent', 'flow', '@entry', 'switch', 'case', 'default', '=>', '->', '{', '}', '(', ')', '[', ']', ',', ':', ';', '.', '+', '"', '\\', 'x', 'A', ' ', '\n', '//', 'return', 'memory', 'tools', 'capability', 'ask', 'inv', 'qmem', '\\u{', '\u0000', '😀'];

function expectCompiles(text: string): void {
  const r = compileSource('fuzz.ais', text);
  // A clean program or a diagnostic list, and the formatter copes with every position.
  expect(r.program !== undefined || r.diagnostics.some((d) => d.severity === 'error')).toBe(true);
  expect(r.diagnostics.every((d) => !d.message.startsWith('internal compiler error'))).toBe(true);
  expect(typeof formatDiagnostics(r.diagnostics, text)).toBe('string');
}

describe('compileSource never throws', () => {
  it('on random byte strings', () => {
    const rand = mulberry32(0xa15);
    for (let n = 0; n < 300; n++) {
      const bytes = Array.from({ length: Math.floor(rand() * 200) }, () => Math.floor(rand() * 256));
      expectCompiles(Buffer.from(bytes).toString('latin1'));
    }
  });

  it('on random sequences of grammar fragments', () => {
    const rand = mulberry32(42);
    for (let n = 0; n < 500; n++) {
      const parts = Array.from({ length: Math.floor(rand() * 60) }, () => ALPHABET[Math.floor(rand() * ALPHABET.length)]!);
      expectCompiles(parts.join(rand() < 0.5 ? '' : ' '));
    }
  });

  it('on every random truncation and single-character deletion of the example workflows', () => {
    const rand = mulberry32(7);
    expect(sources.length).toBeGreaterThanOrEqual(6);
    for (const text of sources) {
      for (let n = 0; n < 40; n++) {
        const cut = Math.floor(rand() * text.length);
        expectCompiles(text.slice(0, cut));
        expectCompiles(text.slice(0, cut) + text.slice(cut + 1));
      }
    }
  });
});
