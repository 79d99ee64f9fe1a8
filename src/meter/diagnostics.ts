import type { InvalidValueReason } from '../model/index.js';
import type { StoreSinkStats } from '../sinks/store.js';

export type WarningHandler = (message: string, code: string) => void;

/** What the meter dropped or failed at, as data (STYLE.md: errors come back as data). */
export interface DiagnosticsSnapshot {
  /** `field:reason` → count, e.g. `input_tokens:negative`. */
  readonly dropped_values: Readonly<Record<string, number>>;
  /** Events the audit queue could not take because it was full. */
  readonly dropped_events: number;
  /** Sink name → batches it threw on, rejected, or could not take because it was stuck. */
  readonly sink_errors: Readonly<Record<string, number>>;
  /** Calls recorded after their run had already finished (e.g. a call nobody awaited). */
  readonly late_events: number;
  /** Calls made through `meter.llmCall` etc. outside any run: made, not measured. */
  readonly unattributed_calls: number;
  /** Failures inside the meter itself that were swallowed to protect the run. */
  readonly internal_errors: number;
  /** The store's writer: rows written, sampled, dropped, waiting; null when there is no store. */
  readonly store: StoreSinkStats | null;
}

const defaultWarning: WarningHandler = (message, code) => {
  process.emitWarning(message, { code });
};

function bump(map: Map<string, number>, key: string, by = 1): void {
  map.set(key, (map.get(key) ?? 0) + by);
}

/**
 * Counts every dropped value and failure, and warns once per kind of problem, so a
 * bad value in a hot loop yields one warning, not a million (OTel's diag pattern).
 */
export class Diagnostics {
  private readonly droppedValues = new Map<string, number>();
  private readonly sinkErrors = new Map<string, number>();
  private readonly warned = new Set<string>();
  droppedEvents = 0;
  lateEvents = 0;
  unattributedCalls = 0;
  internalErrors = 0;
  /** Set by a meter that has a store. */
  storeStats: (() => StoreSinkStats | undefined) | undefined;

  constructor(private readonly warn: WarningHandler = defaultWarning) {}

  droppedValue(field: string, reason: InvalidValueReason, value: unknown): void {
    const key = `${field}:${reason}`;
    bump(this.droppedValues, key);
    this.warnOnce(key, `flowmeter: dropped ${reason} value ${String(value)} for ${field}; the run goes on (further drops of this kind are counted silently)`, 'FLOWMETER_DROPPED_VALUE');
  }

  droppedEvent(): void {
    this.droppedEvents++;
    this.warnOnce('queue_full', 'flowmeter: the audit queue is full, events are being dropped and counted; sinks are slower than the program', 'FLOWMETER_QUEUE_FULL');
  }

  sinkError(sink: string, err: unknown): void {
    bump(this.sinkErrors, sink);
    const detail = err instanceof Error ? err.message : String(err);
    this.warnOnce(`sink:${sink}`, `flowmeter: sink "${sink}" failed (${detail}); the run goes on and further failures are counted`, 'FLOWMETER_SINK_ERROR');
  }

  unattributed(): void {
    this.unattributedCalls++;
  }

  lateEvent(): void {
    this.lateEvents++;
  }

  internalError(err: unknown): void {
    this.internalErrors++;
    const detail = err instanceof Error ? err.message : String(err);
    this.warnOnce('internal', `flowmeter: internal error while measuring (${detail}); the run goes on`, 'FLOWMETER_INTERNAL_ERROR');
  }

  private warnOnce(key: string, message: string, code: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    try {
      this.warn(message, code);
    } catch {
      // A throwing warning handler must not turn a dropped value into a crash.
    }
  }

  snapshot(): DiagnosticsSnapshot {
    return {
      dropped_values: Object.fromEntries(this.droppedValues),
      dropped_events: this.droppedEvents,
      sink_errors: Object.fromEntries(this.sinkErrors),
      late_events: this.lateEvents,
      unattributed_calls: this.unattributedCalls,
      internal_errors: this.internalErrors,
      store: this.storeStats?.() ?? null,
    };
  }
}
