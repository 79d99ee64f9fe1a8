import { invalidNonNegative } from '../model/values.js';
import type { InvalidValueReason } from '../model/values.js';

/** Why a recorded value was dropped: the reasons of `invalidNonNegative` (src/model/values). */
export type DropReason = InvalidValueReason;

/**
 * What a family reports to its registry, always off the fast path: a drop after the value
 * check failed, an overflow when a new label set finds the family full, a misuse when a
 * lookup has the wrong number of label values.
 */
export interface RecorderHooks {
  dropped(metric: string, reason: DropReason): void;
  overflowed(metric: string): void;
  /** A call the family could not take as written (a wrong number of label values); nothing is dropped. */
  misused(metric: string, problem: 'label_count'): void;
}

/** Counters and histograms take non-negative finite values; this names what was wrong. */
export function nonNegativeDropReason(value: unknown): DropReason {
  return invalidNonNegative(value) ?? 'not_a_number';
}

/** Gauges take any finite value, negative included. */
export function finiteDropReason(value: unknown): DropReason {
  if (typeof value !== 'number') return 'not_a_number';
  return Number.isNaN(value) ? 'nan' : 'infinite';
}
