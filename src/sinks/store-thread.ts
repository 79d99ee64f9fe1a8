import type { Worker } from 'node:worker_threads';
import type { FlowEvent } from '../model/index.js';
import type { StoreLocation } from '../store/open.js';
import { StoreError } from '../store/store.js';
import type { Sink } from './sink.js';
import { storeSinkAt, warnOnce } from './store.js';
import type { StoreSink } from './store.js';
import type { StoreSinkOptions, StoreSinkStats } from './store.js';
import { StoreThreadProgress } from './store-thread-progress.js';
import { closeSinkWorker, startSinkWorker } from './worker-thread.js';
import type { ThreadError } from './worker-thread.js';

export interface StoreThreadSinkOptions extends Omit<StoreSinkOptions, 'open' | 'openFailureIsFinal' | 'onProgress'> {
  /** The store the worker opens: a SQLite file or a PostgreSQL URL. */
  readonly store: StoreLocation;
}

/** What the worker is started with: plain data only (a function cannot cross threads). */
export interface StoreThreadSetup {
  readonly options: Omit<StoreThreadSinkOptions, 'onWarning'>;
  readonly progress: SharedArrayBuffer;
}

export type ToStoreThread =
  | { readonly type: 'write'; readonly batches: readonly (readonly FlowEvent[])[] }
  | { readonly type: 'flush'; readonly id: number }
  /** Commit now, without an answer: process exit waits on the settled count instead. */
  | { readonly type: 'drain' }
  | { readonly type: 'ready'; readonly id: number }
  | { readonly type: 'close' };

export type FromStoreThread =
  | { readonly type: 'warning'; readonly message: string; readonly code: string }
  | { readonly type: 'flushed'; readonly id: number }
  | { readonly type: 'ready'; readonly id: number; readonly error?: ThreadError }
  | { readonly type: 'closed' };

const ZERO: StoreSinkStats = { written_rows: 0, written_batches: 0, sampled_calls: 0, dropped_rows: 0, write_errors: 0, pending_rows: 0, available: true };

/**
 * StoreSink on a worker thread: turning events into rows (BatchBuilder) and committing them
 * (a synchronous SQLite transaction) happen off the event loop, so a server that ends a run
 * per request — the proxy — does not hold its other requests while the store writes. The
 * worker runs an ordinary StoreSink on the batches posted here (one message per turn of the
 * event loop, like JsonlThreadSink), so backlog, overload sampling, batching, retries,
 * retention and the rows themselves are the same; its warnings come back here, once per
 * kind, and its stats are shared memory, so `stats()` stays synchronous.
 *
 * `flush()` resolves once every event so far is committed (or the store is given up on);
 * `close()` flushes, stops retention and ends the thread. At process exit, `drainNow()`
 * blocks (up to `closeTimeoutMs`) until the worker has committed what was posted. If the
 * worker dies, an in-thread StoreSink takes over and what the worker held is counted in
 * `dropped_rows`.
 */
export class StoreThreadSink implements Sink {
  readonly name = 'store';
  private readonly options: StoreThreadSinkOptions;
  private readonly progress = new StoreThreadProgress();
  private readonly maxPending: number;
  private worker: Worker | undefined;
  private fallback: StoreSink | undefined;
  /** The worker's stats when it died, its backlog counted as dropped. */
  private lost: StoreSinkStats | undefined;
  /** Batches posted, counted as the worker counts them (a wrapping Int32). */
  private posted = 0;
  /** Events handed to `write` and taken on to the worker, posted or not. */
  private handedEvents = 0;
  /** Rows dropped here: the worker was too far behind, or had given up on the store. */
  private dropped = 0;
  /** This turn's batches, posted together at its end: one message per turn of the event loop, not per batch. */
  private outbox: (readonly FlowEvent[])[] = [];
  private scheduled = false;
  private nextId = 0;
  private readonly waiting = new Map<number, () => void>();
  private readonly readying = new Map<number, (error: ThreadError | undefined) => void>();
  /** Once per kind (code), from the worker's sink, a fallback sink and this one alike. */
  private readonly warn: (message: string, code: string) => void;
  private closed = false;
  private closing: Promise<void> | undefined;

  constructor(options: StoreThreadSinkOptions) {
    this.options = options;
    this.maxPending = options.maxPendingRows ?? 200_000;
    this.warn = warnOnce(options.onWarning);
  }

  stats(): StoreSinkStats {
    const worker = this.lost ?? this.progress.stats();
    const here = this.fallback?.stats() ?? ZERO;
    // Events on their way to the worker become about one row each.
    const onTheWay = this.lost === undefined ? this.handedEvents - this.progress.receivedEvents : 0;
    return {
      written_rows: worker.written_rows + here.written_rows,
      written_batches: worker.written_batches + here.written_batches,
      sampled_calls: worker.sampled_calls + here.sampled_calls,
      dropped_rows: worker.dropped_rows + here.dropped_rows + this.dropped,
      write_errors: worker.write_errors + here.write_errors,
      pending_rows: worker.pending_rows + here.pending_rows + onTheWay,
      available: this.fallback === undefined ? worker.available : here.available,
    };
  }

  /** Opens the store now, in the worker; rejects with the store's own one-line error when it cannot. */
  async ready(): Promise<void> {
    if (this.fallback !== undefined) return this.fallback.ready();
    const worker = this.start();
    const id = this.nextId++;
    const error = await new Promise<ThreadError | undefined>((resolve) => {
      worker.ref();
      this.readying.set(id, resolve);
      this.send({ type: 'ready', id });
    });
    // The thread may have died meanwhile (fail answers every waiter): then the sink that took over opens it.
    const fallback = this.fallback as StoreSink | undefined;
    if (fallback !== undefined) return fallback.ready();
    if (error !== undefined) throw Object.assign(new StoreError(error.message), error.code === undefined ? {} : { code: error.code });
  }

  write(events: readonly FlowEvent[]): void {
    if (this.closed || events.length === 0) return;
    if (this.fallback !== undefined) return this.fallback.write(events);
    // What StoreSink does once it gave up on the store, without copying the events over first.
    if (!this.progress.available) {
      this.dropped += events.length;
      return;
    }
    // The worker takes messages between commits; if it falls this far behind (a store that
    // holds it), events are dropped and counted here rather than queued without bound.
    if (this.handedEvents - this.progress.receivedEvents + events.length > this.maxPending) {
      this.dropped += events.length;
      this.warn('flowmeter: the store thread is behind and its backlog is full; rows are being dropped and counted', 'FLOWMETER_STORE_BACKLOG');
      return;
    }
    this.outbox.push(events);
    this.handedEvents += events.length;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.post);
    }
  }

  private readonly post = (): void => {
    this.scheduled = false;
    if (this.outbox.length === 0 || this.fallback !== undefined) return;
    const batches = this.outbox;
    this.outbox = [];
    const worker = this.start();
    try {
      worker.postMessage({ type: 'write', batches } satisfies ToStoreThread);
    } catch (err) {
      // An event that cannot be copied (structured clone) costs its batch, not the process: this runs in a setImmediate.
      const events = batches.reduce((n, batch) => n + batch.length, 0);
      this.handedEvents -= events;
      this.dropped += events;
      this.warn(`flowmeter: events could not be handed to the store thread (${err instanceof Error ? err.message : String(err)}); they are dropped and counted`, 'FLOWMETER_STORE_THREAD_COPY');
      return;
    }
    this.posted = (this.posted + batches.length) | 0;
  };

  /** Resolves when every event so far is committed, or the store is given up on. */
  flush(): Promise<void> | void {
    this.post();
    if (this.fallback !== undefined) return this.fallback.flush();
    const worker = this.worker;
    if (worker === undefined || this.progress.behind(this.posted) <= 0) return;
    const id = this.nextId++;
    return new Promise<void>((resolve) => {
      // A pending answer keeps the process alive; otherwise the thread never does (see drainNow).
      if (this.waiting.size === 0) worker.ref();
      this.waiting.set(id, resolve);
      this.send({ type: 'flush', id });
    });
  }

  /** At process exit, where nothing async runs: blocks until the worker has committed what was posted, up to `closeTimeoutMs`. */
  drainNow(): void {
    this.post();
    if (this.fallback !== undefined) return this.fallback.drainNow();
    if (this.worker === undefined || this.progress.behind(this.posted) <= 0) return;
    // Rows wait up to flushIntervalMs in the worker to be written with others; exit does not.
    this.send({ type: 'drain' });
    this.progress.waitSettled(this.posted, this.options.closeTimeoutMs ?? 5_000);
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.post();
      this.closed = true;
      const worker = this.worker;
      // The worker flushes, stops retention, closes the store and answers.
      if (worker !== undefined)
        await closeSinkWorker(worker, { type: 'close' } satisfies ToStoreThread, () => {
          this.worker = undefined;
        });
      await this.fallback?.close();
    })();
    return this.closing;
  }

  private send(message: ToStoreThread): void {
    this.worker?.postMessage(message);
  }

  private start(): Worker {
    if (this.worker !== undefined) return this.worker;
    const { onWarning: _, ...options } = this.options;
    const setup: StoreThreadSetup = { options, progress: this.progress.buffer };
    // At exit, drainNow waits for the thread.
    const worker = startSinkWorker<FromStoreThread>('store-thread-worker', setup, {
      receive: (message) => this.receive(message),
      fail: (err) => this.fail(err),
      current: (w) => this.worker === w,
      what: 'the store thread',
    });
    this.worker = worker;
    return worker;
  }

  private receive(message: FromStoreThread): void {
    switch (message.type) {
      case 'warning':
        this.warn(message.message, message.code);
        break;
      case 'flushed': {
        const resolve = this.waiting.get(message.id);
        this.waiting.delete(message.id);
        this.release();
        resolve?.();
        break;
      }
      case 'ready': {
        const answer = this.readying.get(message.id);
        this.readying.delete(message.id);
        this.release();
        answer?.(message.error);
        break;
      }
      case 'closed':
        // closeSinkWorker waits for this answer.
        break;
      default: {
        const unreachable: never = message;
        return unreachable;
      }
    }
  }

  /** Nobody waits for an answer: the thread goes back to not holding the process. */
  private release(): void {
    if (this.waiting.size === 0 && this.readying.size === 0 && !this.closed) this.worker?.unref();
  }

  /** The thread failed: count what it held, answer every waiter, and write on the event loop from now on. */
  private fail(err: unknown): void {
    if (this.lost !== undefined) return;
    const last = this.progress.stats();
    const unposted = this.outbox.reduce((n, batch) => n + batch.length, 0);
    // Rows in the worker's backlog, and events posted that it never took (about a row each).
    const lost = last.pending_rows + (this.handedEvents - unposted - this.progress.receivedEvents);
    this.lost = { ...last, pending_rows: 0, dropped_rows: last.dropped_rows + lost };
    this.handedEvents = 0;
    const worker = this.worker;
    this.worker = undefined;
    void worker?.terminate();
    this.warn(`flowmeter: the store thread failed (${err instanceof Error ? err.message : String(err)}); ${lost} rows were not written; writing on the main thread from now on`, 'FLOWMETER_STORE_THREAD');
    if (!this.closed) {
      const { store, onWarning: _, ...options } = this.options;
      this.fallback = storeSinkAt(store, {
        ...options,
        onWarning: (message, code) => this.warn(message, code),
      });
      // What was not posted yet is not lost: it is written here, in order.
      for (const batch of this.outbox) this.fallback.write(batch);
    }
    this.outbox = [];
    for (const resolve of this.waiting.values()) resolve();
    this.waiting.clear();
    for (const answer of this.readying.values()) answer(undefined);
    this.readying.clear();
  }
}
