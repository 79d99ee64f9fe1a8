import type { FlowEvent } from '../model/index.js';
import { BatchBuilder } from '../store/batch.js';
import { RollupDelta } from '../store/rollup.js';
import type { CallRow, RetryRow, RunRow, StepRow, Store, StoreBatch } from '../store/store.js';
import { StoreError } from '../store/store.js';
import { openStore } from '../store/open.js';
import type { StoreLocation } from '../store/open.js';
import type { Sink } from './sink.js';
import { startRetention } from '../store/retention.js';
import type { RetentionPolicy } from '../store/retention.js';

export interface StoreSinkOptions {
  /** Opens the store on first use (and again after a failed open, for a server that was down). */
  readonly open: () => Promise<Store>;
  /**
   * Whether a failed open is final: true for a SQLite file that cannot be opened (the
   * meter goes on without a store); false for a server that may come back.
   */
  readonly openFailureIsFinal?: (err: unknown) => boolean;
  /** Rows waiting for the store at most; past half of it raw calls are sampled, past all of it rows are dropped. Default 200,000. */
  readonly maxPendingRows?: number;
  /** Rows per transaction at most. Default 50,000: under load, big transactions amortize the rollup rewrite. */
  readonly batchRows?: number;
  /** How long new rows wait to be written with others. Bounds what a crash can lose. Default 20 ms. */
  readonly flushIntervalMs?: number;
  /** How long `close()` waits for the backlog to be written. Default 5,000 ms. */
  readonly closeTimeoutMs?: number;
  /** Expire old rows in the background once the store is open. */
  readonly retention?: RetentionPolicy;
  /** Told once per kind of problem; the run goes on. */
  readonly onWarning?: (message: string, code: string) => void;
  /**
   * Told after each write to the store (committed or failed) and each time the writer
   * stops, once `stats()` and `idle` say so: a worker thread running this sink publishes
   * them to the main thread from here (StoreThreadSink).
   */
  readonly onProgress?: () => void;
}

/** What the store sink did, for `meter.diagnostics()` and `/metrics`. */
export interface StoreSinkStats {
  /** Rows committed (runs, steps, calls, retries). */
  readonly written_rows: number;
  readonly written_batches: number;
  /** Calls folded into rollups without a raw row (overload sampling). */
  readonly sampled_calls: number;
  /** Rows that could not be kept: the backlog was full, or the store could not open. */
  readonly dropped_rows: number;
  /** Writes that failed and were retried. */
  readonly write_errors: number;
  /** Rows waiting now. */
  readonly pending_rows: number;
  /** false once the store could not be opened for good. */
  readonly available: boolean;
}

interface Pending {
  runStarts: RunRow[];
  runEnds: RunRow[];
  steps: StepRow[];
  calls: CallRow[];
  retries: RetryRow[];
  sampled: RollupDelta | null;
}

const emptyPending = (): Pending => ({ runStarts: [], runEnds: [], steps: [], calls: [], retries: [], sampled: null });

function rowCount(p: Pending | StoreBatch): number {
  return p.runStarts.length + p.runEnds.length + p.steps.length + p.calls.length + p.retries.length;
}

const MAX_BACKOFF_MS = 5_000;

/**
 * The store on the audit path. Events become rows at once (so positions and sampling follow
 * event order); a writer loop commits them in batches, one transaction each. A store that
 * fails is retried with backoff while rows wait in a bounded backlog; what cannot wait is
 * counted. Nothing here ever throws into the meter or blocks a run.
 */
export class StoreSink implements Sink {
  readonly name = 'store';
  readonly #options: StoreSinkOptions;
  readonly #builder = new BatchBuilder();
  readonly #maxPending: number;
  readonly #batchRows: number;
  #pending = emptyPending();
  #pendingRows = 0;
  /** Rows taken off the backlog by a write that has not settled. */
  #inFlightRows = 0;
  #store: Store | undefined;
  #opening: Promise<Store | undefined> | undefined;
  #available = true;
  #pump: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #retention: { stop(): void; readonly done: Promise<void> } | undefined;
  #backoffMs = 0;
  readonly #warnOnce: (message: string, code: string) => void;
  #stats = { written_rows: 0, written_batches: 0, dropped_rows: 0, write_errors: 0 };

  constructor(options: StoreSinkOptions) {
    this.#options = options;
    this.#warnOnce = warnOnce(options.onWarning);
    this.#maxPending = options.maxPendingRows ?? 200_000;
    this.#batchRows = options.batchRows ?? 50_000;
  }

  stats(): StoreSinkStats {
    return { ...this.#stats, sampled_calls: this.#builder.sampledCalls, pending_rows: this.#pendingRows + this.#inFlightRows, available: this.#available };
  }

  /** Nothing waits to be written: every row so far is committed, dropped and counted, or the store was given up on. */
  get idle(): boolean {
    return this.#pump === undefined && (!this.#hasWork() || !this.#available || this.#closed);
  }

  /** Opens the store now; rejects with the store's own one-line error when it cannot. */
  async ready(): Promise<void> {
    const store = await this.#open(true);
    if (store === undefined) throw new StoreError('the store is not available');
  }

  write(events: readonly FlowEvent[]): void {
    if (this.#closed || !this.#available) {
      if (!this.#available) this.#stats.dropped_rows += events.length;
      return;
    }
    const rate = this.#pendingRows < this.#maxPending / 2 ? 1 : this.#pendingRows < this.#maxPending ? 0.1 : 0;
    const batch = this.#builder.build(events, { callSampleRate: rate === 0 ? 1e-9 : rate });
    this.#append(batch);
    this.#schedule();
  }

  #append(batch: StoreBatch): void {
    const p = this.#pending;
    const room = this.#maxPending - this.#pendingRows;
    const incoming = rowCount(batch);
    if (incoming > room) {
      // Over the bound: keep run rows first (they carry the run's totals), then the rest while room lasts.
      let left = room;
      const take = <T>(rows: readonly T[], into: T[]): void => {
        const n = Math.max(0, Math.min(rows.length, left));
        for (let i = 0; i < n; i++) into.push(rows[i] as T);
        left -= n;
        this.#stats.dropped_rows += rows.length - n;
      };
      take(batch.runEnds, p.runEnds);
      take(batch.runStarts, p.runStarts);
      take(batch.steps, p.steps);
      take(batch.retries, p.retries);
      take(batch.calls, p.calls);
      this.#pendingRows = this.#maxPending - left;
      this.#warnOnce('flowmeter: the store is behind and its backlog is full; rows are being dropped and counted (rollups stay exact)', 'FLOWMETER_STORE_BACKLOG');
    } else {
      for (const r of batch.runStarts) p.runStarts.push(r);
      for (const r of batch.runEnds) p.runEnds.push(r);
      for (const r of batch.steps) p.steps.push(r);
      for (const r of batch.calls) p.calls.push(r);
      for (const r of batch.retries) p.retries.push(r);
      this.#pendingRows += incoming;
    }
    if (batch.sampled !== null) {
      p.sampled ??= new RollupDelta();
      p.sampled.merge(batch.sampled);
    }
  }

  #schedule(): void {
    if (this.#pump !== undefined || this.#timer !== undefined) return;
    const delay = this.#backoffMs > 0 ? this.#backoffMs : (this.#options.flushIntervalMs ?? 20);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      // The pump never rejects: #run catches every store failure.
      void this.#startPump();
    }, delay);
    // The program may exit while rows wait; process exit writes what it can (drainNow).
    this.#timer.unref();
  }

  #startPump(): Promise<void> {
    this.#pump ??= this.#run().finally(() => {
      this.#pump = undefined;
      if (this.#hasWork() && !this.#closed && this.#available) this.#schedule();
      this.#progress();
    });
    return this.#pump;
  }

  #hasWork(): boolean {
    return this.#pendingRows > 0 || this.#pending.sampled !== null;
  }

  /** Takes up to batchRows rows off the front of the backlog, run starts before everything else. */
  #take(): StoreBatch {
    const p = this.#pending;
    if (rowCount(p) <= this.#batchRows) {
      this.#pending = emptyPending();
      this.#pendingRows = 0;
      return p;
    }
    let left = this.#batchRows;
    const cut = <T>(rows: T[]): T[] => {
      const n = Math.min(rows.length, left);
      left -= n;
      return rows.splice(0, n);
    };
    const batch: StoreBatch = {
      runStarts: cut(p.runStarts),
      steps: cut(p.steps),
      calls: cut(p.calls),
      retries: cut(p.retries),
      // A run's end goes in the same batch as its last calls or a later one, never before them.
      runEnds: p.calls.length === 0 && p.steps.length === 0 ? cut(p.runEnds) : [],
      sampled: null,
    };
    this.#pendingRows -= rowCount(batch);
    return batch;
  }

  #putBack(batch: StoreBatch): void {
    const p = this.#pending;
    p.runStarts.unshift(...batch.runStarts);
    p.runEnds.unshift(...batch.runEnds);
    p.steps.unshift(...batch.steps);
    p.calls.unshift(...batch.calls);
    p.retries.unshift(...batch.retries);
    if (batch.sampled !== null) {
      p.sampled ??= new RollupDelta();
      p.sampled.merge(batch.sampled);
    }
    this.#pendingRows += rowCount(batch);
  }

  async #run(): Promise<void> {
    while (this.#hasWork() && this.#available) {
      const store = await this.#open(false);
      if (store === undefined) return;
      let batch = this.#take();
      if (this.#pending.sampled !== null && rowCount(this.#pending) === 0) {
        batch = { ...batch, sampled: this.#pending.sampled };
        this.#pending.sampled = null;
      }
      this.#inFlightRows = rowCount(batch);
      try {
        await store.write(batch);
        this.#inFlightRows = 0;
        this.#stats.written_rows += rowCount(batch);
        this.#stats.written_batches += 1;
        this.#backoffMs = 0;
        this.#progress();
      } catch (err) {
        this.#inFlightRows = 0;
        this.#stats.write_errors += 1;
        this.#putBack(batch);
        this.#backoffMs = Math.min(MAX_BACKOFF_MS, this.#backoffMs === 0 ? 100 : this.#backoffMs * 2);
        this.#warnOnce(`flowmeter: writing to the store failed (${oneLine(err)}); rows wait and the write is retried`, 'FLOWMETER_STORE_WRITE');
        return;
      }
    }
  }

  async #open(throwOnFailure: boolean): Promise<Store | undefined> {
    if (this.#store !== undefined) return this.#store;
    this.#opening ??= this.#options.open().then(
      (store) => {
        this.#store = store;
        const policy = this.#options.retention;
        if (policy !== undefined && (policy.rawMs !== undefined || policy.rollupsMs !== undefined)) {
          this.#retention = startRetention(store, policy, {
            onError: (err) => this.#warnOnce(`flowmeter: expiring old store rows failed (${oneLine(err)}); it is tried again later`, 'FLOWMETER_STORE_RETENTION'),
          });
        }
        return store;
      },
      (err: unknown) => {
        this.#opening = undefined;
        const final = this.#options.openFailureIsFinal?.(err) ?? true;
        if (final) {
          this.#available = false;
          this.#stats.dropped_rows += this.#pendingRows;
          this.#pending = emptyPending();
          this.#pendingRows = 0;
          this.#warnOnce(`flowmeter: the store could not be opened (${oneLine(err)}); the program goes on without it`, 'FLOWMETER_STORE_UNAVAILABLE');
        } else {
          this.#backoffMs = Math.min(MAX_BACKOFF_MS, this.#backoffMs === 0 ? 100 : this.#backoffMs * 2);
          this.#warnOnce(`flowmeter: the store is not reachable (${oneLine(err)}); rows wait and it is tried again`, 'FLOWMETER_STORE_UNREACHABLE');
        }
        if (throwOnFailure) throw err;
        return undefined;
      },
    );
    return this.#opening;
  }

  #progress(): void {
    try {
      this.#options.onProgress?.();
    } catch {
      // Like a warning handler: it must not break the writer.
    }
  }

  /** Resolves when every row so far is committed, or the store is given up on (close bounds the wait). */
  async flush(): Promise<void> {
    const deadline = Date.now() + (this.#options.closeTimeoutMs ?? 5_000);
    while (this.#hasWork() && this.#available && !this.#closed && Date.now() < deadline) {
      if (this.#timer !== undefined) {
        clearTimeout(this.#timer);
        this.#timer = undefined;
      }
      const backoff = this.#backoffMs;
      if (backoff > 0 && this.#pump === undefined) {
        // A referenced timer: a flush that waits keeps the process alive, unlike the idle writer's.
        await new Promise<void>((resolve) => setTimeout(resolve, Math.min(backoff, Math.max(0, deadline - Date.now()))));
      }
      await this.#startPump();
    }
  }

  /**
   * At process exit only synchronous work runs. SQLite writes synchronously, so what is
   * waiting is committed now; for a server store the backlog is counted as dropped.
   */
  drainNow(): void {
    const store = this.#store;
    if (!this.#hasWork()) return;
    if (store?.kind === 'sqlite' && this.#pump === undefined) {
      const batch = this.#pending;
      const rows = this.#pendingRows;
      this.#pending = emptyPending();
      this.#pendingRows = 0;
      // SqliteStore.write commits before it returns its promise.
      store.write(batch).then(
        () => undefined,
        () => undefined,
      );
      this.#stats.written_rows += rows;
      this.#stats.written_batches += 1;
      return;
    }
    this.#stats.dropped_rows += this.#pendingRows;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = await Promise.race([
      this.flush().then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), this.#options.closeTimeoutMs ?? 5_000);
        timer.unref();
      }),
    ]);
    clearTimeout(timer);
    if (gaveUp) {
      this.#stats.dropped_rows += this.#pendingRows;
      this.#warnOnce(`flowmeter: the store was not reachable at close; ${this.#pendingRows} rows were dropped`, 'FLOWMETER_STORE_CLOSE');
    }
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#retention?.stop();
    await this.#retention?.done;
    const store = this.#store;
    this.#store = undefined;
    if (gaveUp) {
      // A write may still hang on a dead connection; release the store without waiting for it.
      void store?.close().catch(() => undefined);
      return;
    }
    await this.#pump;
    await store?.close();
  }
}

function oneLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
}

/**
 * A StoreSink for a store location, as the meter makes it on the event loop or a worker
 * thread: a SQLite file that cannot open will not heal (the meter goes on without it); a
 * server that is down may come back (rows wait and the open is retried).
 */
export function storeSinkAt(store: StoreLocation, options: Omit<StoreSinkOptions, 'open' | 'openFailureIsFinal'>): StoreSink {
  return new StoreSink({ ...options, open: () => openStore(store), openFailureIsFinal: () => 'path' in store });
}

/**
 * Tells `onWarning` (else `process.emitWarning`) of each kind of problem, by its code, once.
 * A handler that throws is ignored: a warning must not break the audit path.
 */
export function warnOnce(onWarning: ((message: string, code: string) => void) | undefined): (message: string, code: string) => void {
  const told = new Set<string>();
  return (message, code) => {
    if (told.has(code)) return;
    told.add(code);
    try {
      (onWarning ?? ((m, c) => process.emitWarning(m, { code: c })))(message, code);
    } catch {
      // Nothing to do: the program goes on.
    }
  };
}
