import { performance } from 'node:perf_hooks';

/**
 * Durations come from the monotonic clock; wall-clock stamps are derived from it
 * (`timeOrigin + now()`), so `end_ts - start_ts` always equals `duration_ms` and an
 * NTP step during a call can never produce a negative duration.
 */
export const monotonicMs: () => number = () => performance.now();

const origin = performance.timeOrigin;

export function isoAt(monotonic: number): string {
  return new Date(origin + monotonic).toISOString();
}

/**
 * `performance.now()` differences carry float noise (0.48747600000001); events keep
 * microsecond precision, which is what the clock really resolves.
 */
export function elapsedMs(start: number, end: number): number {
  return Math.round((end - start) * 1000) / 1000;
}
