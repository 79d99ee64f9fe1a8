import { describe, expect, it } from 'vitest';
import { isoAt } from '../../src/meter/clock.js';

const origin = performance.timeOrigin;

/** The monotonic reading at which the wall clock shows `wallMs` (plus a fraction of a millisecond). */
function readingAt(wallMs: number, fraction = 0.25): number {
  return wallMs + fraction - origin;
}

function expected(reading: number): string {
  return new Date(Math.floor(origin + reading)).toISOString();
}

describe('isoAt', () => {
  const now = Math.floor(origin) + 3_600_000;

  it('writes what Date#toISOString writes, within a millisecond and across one', () => {
    for (const reading of [readingAt(now, 0.1), readingAt(now, 0.9), readingAt(now + 1), readingAt(now + 1, 0.5), readingAt(now + 999)]) {
      expect(isoAt(reading)).toBe(expected(reading));
    }
  });

  it('writes the right stamp across seconds, minutes and hours, in either direction', () => {
    const minute = now - (now % 60_000);
    const readings = [
      readingAt(minute - 1),
      readingAt(minute),
      readingAt(minute + 59_999),
      readingAt(minute + 60_000),
      readingAt(minute + 3_600_000 - 1),
      readingAt(minute + 3_600_000),
      readingAt(minute - 1),
      readingAt(minute - 1),
      readingAt(minute + 1_001),
    ];
    for (const reading of readings) expect(isoAt(reading)).toBe(expected(reading));
  });
});
