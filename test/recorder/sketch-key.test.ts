import { DDSketch } from '@datadog/sketches-js';
import { describe, expect, it } from 'vitest';
import { MIN_INDEXABLE, checkKeyMapping, exactSketchKey, sketchKey } from '../../src/recorder/sketch-key.js';
import { mulberry32 } from '../stats/fixtures.js';

const mapping = new DDSketch({ relativeAccuracy: 0.01 }).mapping;

/** The next double above (`direction` 1) or below (-1) a positive finite value. */
function adjacent(value: number, direction: 1 | -1): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, value);
  view.setBigUint64(0, view.getBigUint64(0) + BigInt(direction));
  return view.getFloat64(0);
}

describe('sketchKey', () => {
  it('gives the library key for a million values across the whole double range', () => {
    const random = mulberry32(2024);
    let mismatches = 0;
    for (let i = 0; i < 1_000_000; i++) {
      // Log-uniform from 1e-307 to 1e307, so every exponent is visited.
      const value = Math.pow(10, -307 + random() * 614);
      if (sketchKey(value) !== mapping.key(value)) mismatches++;
    }
    expect(mismatches).toBe(0);
  });

  it('gives the library key on both sides of every bucket edge from 1e-9 to 1e12', () => {
    const gamma = mapping.gamma;
    let mismatches = 0;
    let checked = 0;
    for (let key = Math.floor(Math.log(1e-9) / Math.log(gamma)); key < Math.log(1e12) / Math.log(gamma); key++) {
      const edge = Math.pow(gamma, key);
      for (const value of [edge, adjacent(edge, 1), adjacent(edge, -1), adjacent(adjacent(edge, 1), 1), adjacent(adjacent(edge, -1), -1)]) {
        checked++;
        if (sketchKey(value) !== mapping.key(value)) mismatches++;
      }
    }
    expect(checked).toBeGreaterThan(10_000);
    expect(mismatches).toBe(0);
  });

  it('gives the library key for subnormals, powers of two and round numbers', () => {
    const values = [MIN_INDEXABLE * 1.5, 1e-310, 2.2250738585072014e-308, 0.5, 1, 2, 1024, 0.1, 0.3, 1e6, 1.7976931348623157e308];
    for (const value of values) expect([value, sketchKey(value)]).toEqual([value, mapping.key(value)]);
  });

  it('agrees with the exact formula, which is what the library computes', () => {
    const random = mulberry32(5);
    for (let i = 0; i < 10_000; i++) {
      const value = Math.exp((random() - 0.5) * 80);
      expect(exactSketchKey(value)).toBe(mapping.key(value));
    }
  });

  it('passes the start-up check against the installed library', () => {
    expect(() => checkKeyMapping()).not.toThrow();
  });
});
