import type { FlowEvent } from '../../../model/index.js';

/**
 * A naming profile: a set of families defined on the view's registry, and how events map
 * to observations on them. `record` runs on the hot path: it looks label sets up through
 * the registry's handle cache (a trie of Maps keyed by the raw strings) and builds no
 * strings, so a repeated label set costs a few Map lookups.
 */
export interface Profile {
  record(event: FlowEvent): void;
  /** Brings values that live outside the events up to date; called before each render. */
  collect?(): void;
}

/** What the meter reports about itself (its `DiagnosticsSnapshot` has these fields). */
export interface ExportDiagnostics {
  /** Events the audit queue could not take because it was full. */
  readonly dropped_events: number;
  /** Sink name → batches it failed on. */
  readonly sink_errors: Readonly<Record<string, number>>;
  /** The store writer's counts, when the meter has a store. */
  readonly store?: {
    readonly written_rows: number;
    readonly sampled_calls: number;
    readonly dropped_rows: number;
    readonly write_errors: number;
    readonly pending_rows: number;
  } | null;
}

/** The label value a missing step id or model gets (the Retry event's `step_id` is null outside a step). */
export const NONE_LABEL_VALUE = 'none';
