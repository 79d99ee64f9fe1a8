/**
 * Value hygiene for measurements. The recording path never throws on a bad value:
 * it asks here whether the value is usable, and if not, drops it and counts why
 * (the way OTel's `Counter.add` ignores a negative increment with one warning).
 */
export type InvalidValueReason = 'not_a_number' | 'nan' | 'infinite' | 'negative' | 'unknown_name';

/** Returns why `value` is not a usable non-negative measurement, or null when it is. */
export function invalidNonNegative(value: unknown): InvalidValueReason | null {
  if (typeof value !== 'number') return 'not_a_number';
  if (Number.isNaN(value)) return 'nan';
  if (!Number.isFinite(value)) return 'infinite';
  if (value < 0) return 'negative';
  return null;
}
