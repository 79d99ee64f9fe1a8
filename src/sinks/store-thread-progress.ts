import type { StoreSinkStats } from './store.js';
import { batchesBehind, waitForBatches } from './worker-thread.js';

const SLOTS = ['written_rows', 'written_batches', 'sampled_calls', 'dropped_rows', 'write_errors', 'pending_rows', 'available', 'received_events'] as const;
type Slot = (typeof SLOTS)[number];
const at = Object.fromEntries(SLOTS.map((name, i) => [name, i])) as Record<Slot, number>;

/**
 * What the store thread tells the main thread without a message, so that `stats()` stays
 * synchronous (`meter.diagnostics()`, `/metrics`) and process exit can block on it: the
 * worker's StoreSink stats, the events it has taken, and the batches it has settled
 * (committed, or dropped and counted). Counts are float64 slots, exact to 2^53; a reader
 * may see one slot a write newer than another, which diagnostics can live with. Only the
 * settled count is waited on, so only it is an Int32 for Atomics, and it wraps: compare it
 * with `behind()`.
 */
export class StoreThreadProgress {
  readonly buffer: SharedArrayBuffer;
  readonly #settled: Int32Array;
  readonly #values: Float64Array;

  constructor(buffer?: SharedArrayBuffer) {
    this.buffer = buffer ?? new SharedArrayBuffer(8 + 8 * SLOTS.length);
    this.#settled = new Int32Array(this.buffer, 0, 1);
    this.#values = new Float64Array(this.buffer, 8, SLOTS.length);
    if (buffer === undefined) this.#values[at.available] = 1;
  }

  /** Worker side: the sink's stats and the events taken so far. */
  publish(stats: StoreSinkStats, receivedEvents: number): void {
    const v = this.#values;
    v[at.written_rows] = stats.written_rows;
    v[at.written_batches] = stats.written_batches;
    v[at.sampled_calls] = stats.sampled_calls;
    v[at.dropped_rows] = stats.dropped_rows;
    v[at.write_errors] = stats.write_errors;
    v[at.pending_rows] = stats.pending_rows;
    v[at.available] = stats.available ? 1 : 0;
    v[at.received_events] = receivedEvents;
  }

  /** Worker side: every batch up to `batches` (a wrapping count) is settled; wakes a main thread blocked in `waitSettled`. */
  settle(batches: number): void {
    Atomics.store(this.#settled, 0, batches);
    Atomics.notify(this.#settled, 0);
  }

  /** The worker's sink stats as last published. */
  stats(): StoreSinkStats {
    const v = this.#values;
    return {
      written_rows: v[at.written_rows] ?? 0,
      written_batches: v[at.written_batches] ?? 0,
      sampled_calls: v[at.sampled_calls] ?? 0,
      dropped_rows: v[at.dropped_rows] ?? 0,
      write_errors: v[at.write_errors] ?? 0,
      pending_rows: v[at.pending_rows] ?? 0,
      available: v[at.available] === 1,
    };
  }

  get available(): boolean {
    return this.#values[at.available] === 1;
  }

  get receivedEvents(): number {
    return this.#values[at.received_events] ?? 0;
  }

  /** Batches posted (a wrapping Int32 count, like the worker's) that are not settled yet. */
  behind(posted: number): number {
    return batchesBehind(posted, this.#settled);
  }

  /** Blocks until no batch up to `posted` waits, or `timeoutMs` passed; true when none waits. */
  waitSettled(posted: number, timeoutMs: number): boolean {
    return waitForBatches(this.#settled, posted, timeoutMs);
  }
}
