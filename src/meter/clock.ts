import { performance } from 'node:perf_hooks';

/**
 * Durations come from the monotonic clock; wall-clock stamps are derived from it
 * (`timeOrigin + now()`), so `end_ts - start_ts` always equals `duration_ms` and an
 * NTP step during a call can never produce a negative duration.
 */
export const monotonicMs: () => number = () => performance.now();

const origin = performance.timeOrigin;

let minuteStart = Number.NaN;
let minutePrefix = '';
let lastMs = Number.NaN;
let lastStamp = '';

function pad2(n: number): string {
  return n < 10 ? `0${n}` : `${n}`;
}

function pad3(n: number): string {
  return n < 10 ? `00${n}` : n < 100 ? `0${n}` : `${n}`;
}

/**
 * ISO 8601 (UTC, millisecond precision — exactly `Date#toISOString`'s output) for a
 * monotonic reading. `toISOString` was 40% of the cost of recording a call, so the
 * `YYYY-MM-DDTHH:MM:` prefix is built once a minute and only seconds and milliseconds
 * are formatted per event. Calls take microseconds, so most stamps repeat the last one:
 * the same string is handed out for the whole millisecond, and the sinks' checks of a
 * stamp (`quoteTs`) then see a string they have already seen.
 */
export function isoAt(monotonic: number): string {
  const ms = Math.floor(origin + monotonic);
  if (ms === lastMs) return lastStamp;
  const offset = ms - minuteStart;
  if (!(offset >= 0 && offset < 60_000)) {
    minuteStart = ms - (ms % 60_000);
    minutePrefix = new Date(minuteStart).toISOString().slice(0, 17);
    return isoAt(monotonic);
  }
  const seconds = Math.floor(offset / 1000);
  lastStamp = `${minutePrefix}${pad2(seconds)}.${pad3(offset - seconds * 1000)}Z`;
  lastMs = ms;
  return lastStamp;
}

/**
 * `performance.now()` differences carry float noise (0.48747600000001); events keep
 * microsecond precision, which is what the clock really resolves.
 */
export function elapsedMs(start: number, end: number): number {
  return Math.round((end - start) * 1000) / 1000;
}

/** USD amounts are kept to 1e-10: sums of per-call costs otherwise print as 0.0040000000000000001. */
export function roundUsd(usd: number): number {
  return Math.round(usd * 1e10) / 1e10;
}
