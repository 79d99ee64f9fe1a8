import type { Worker } from 'node:worker_threads';
import type { FlowEvent } from '../model/index.js';
import { JsonlSink, requireRunsDir } from './jsonl.js';
import type { JsonlSinkOptions } from './jsonl.js';
import type { ErrorHandler } from './report-error.js';
import { ignoreError, reportError } from './report-error.js';
import type { Sink } from './sink.js';
import { batchesBehind, closeSinkWorker, fromThreadError, startSinkWorker, waitForBatches } from './worker-thread.js';
import type { ThreadError } from './worker-thread.js';

/** What the worker is started with: the sink's plain options and the shared count of batches written. */
export interface ThreadSetup {
  readonly options: Omit<JsonlSinkOptions, 'onError'>;
  readonly written: SharedArrayBuffer;
}

export type ToThread = { readonly type: 'write'; readonly batches: readonly (readonly FlowEvent[])[] } | { readonly type: 'flush'; readonly id: number } | { readonly type: 'close' };

type FromThread = { readonly type: 'error'; readonly error: ThreadError } | { readonly type: 'flushed'; readonly id: number } | { readonly type: 'closed' };

/**
 * Batches the disk has not taken yet past which `write` returns a promise, so the audit
 * queue sees a slow disk as a slow sink (it then drops and counts, or makes `wait` callers wait).
 */
const MAX_BEHIND = 4096;

/**
 * JsonlSink on a worker thread: the run folders (mkdir, open, append, run.json, close) are
 * written off the event loop, so a server that ends a run per request — the proxy — does not
 * stall its other requests on the disk. The worker runs a JsonlSink on the batches posted
 * here, in order, so the files are byte for byte what JsonlSink writes, with the same
 * crash guarantees (whole lines only; events.jsonl, then metrics.jsonl, then run.json).
 *
 * `flush()` resolves once every batch written so far is on disk and its errors reported;
 * `close()` flushes and ends the thread. At process exit, `settleSync()` blocks until the
 * worker has caught up, so a normal exit loses nothing; a kill -9 loses the batches the
 * worker had not written yet. If the worker fails, the sink writes on the event loop from
 * then on, and what the worker lost is counted.
 */
export class JsonlThreadSink implements Sink {
  readonly name = 'jsonl';
  private readonly onError: ErrorHandler;
  private readonly written = new Int32Array(new SharedArrayBuffer(4));
  private worker: Worker | undefined;
  private fallback: JsonlSink | undefined;
  /** Batches handed to `write`, posted or not. */
  private posted = 0;
  /** This turn's batches, posted together at its end: one message per turn of the event loop, not per batch. */
  private outbox: (readonly FlowEvent[])[] = [];
  private scheduled = false;
  /** Batches the last completed flush covered. */
  private flushedUpTo = 0;
  private nextFlushId = 0;
  private readonly waiting = new Map<number, () => void>();
  private closed = false;
  private closing: Promise<void> | undefined;

  constructor(private readonly options: JsonlSinkOptions) {
    requireRunsDir(options);
    this.onError = options.onError ?? ignoreError;
  }

  write(events: readonly FlowEvent[]): void | Promise<void> {
    if (this.closed) {
      if (events.length > 0) reportError(this.onError, new Error(`JsonlSink is closed; dropped ${events.length} events`));
      return;
    }
    if (this.fallback !== undefined) return this.fallback.write(events);
    this.outbox.push(events);
    this.posted++;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.post);
    }
    if (batchesBehind(this.posted, this.written) > MAX_BEHIND) return this.flush();
  }

  private readonly post = (): void => {
    this.scheduled = false;
    if (this.outbox.length === 0 || this.fallback !== undefined) return;
    const message: ToThread = { type: 'write', batches: this.outbox };
    this.outbox = [];
    this.start().postMessage(message);
  };

  flush(): Promise<void> | void {
    this.post();
    const worker = this.worker;
    if (worker === undefined || this.flushedUpTo === this.posted) return;
    const upTo = this.posted;
    const id = this.nextFlushId++;
    return new Promise<void>((resolve) => {
      // A pending answer keeps the process alive; otherwise the thread never does (see settleSync).
      if (this.waiting.size === 0) worker.ref();
      this.waiting.set(id, () => {
        this.flushedUpTo = Math.max(this.flushedUpTo, upTo);
        resolve();
      });
      const message: ToThread = { type: 'flush', id };
      worker.postMessage(message);
    });
  }

  /** Blocks until the worker has written every batch posted so far, or `timeoutMs` passed: for process exit, where nothing async runs. */
  settleSync(timeoutMs = 5_000): void {
    this.post();
    if (this.worker !== undefined) waitForBatches(this.written, this.posted, timeoutMs);
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.closed = true;
      this.post();
      const worker = this.worker;
      // The worker closes its files and answers.
      if (worker !== undefined)
        await closeSinkWorker(worker, { type: 'close' } satisfies ToThread, () => {
          this.worker = undefined;
        });
      this.fallback?.close();
    })();
    return this.closing;
  }

  private start(): Worker {
    if (this.worker !== undefined) return this.worker;
    const setup: ThreadSetup = { options: { runsDir: this.options.runsDir, ...(this.options.eventLog !== undefined && { eventLog: this.options.eventLog }) }, written: this.written.buffer };
    // At exit, settleSync waits for the thread.
    const worker = startSinkWorker<FromThread>('jsonl-thread-worker', setup, {
      receive: (message) => this.receive(message),
      fail: (err) => this.fail(err),
      current: (w) => this.worker === w,
      what: 'the run files thread',
    });
    this.worker = worker;
    return worker;
  }

  private receive(message: FromThread): void {
    switch (message.type) {
      case 'error':
        reportError(this.onError, fromThreadError(message.error));
        break;
      case 'flushed': {
        const resolve = this.waiting.get(message.id);
        this.waiting.delete(message.id);
        if (this.waiting.size === 0) this.worker?.unref();
        resolve?.();
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

  /** The thread failed: count what it had not written, answer every waiter, and write on the event loop from now on. */
  private fail(err: unknown): void {
    if (this.fallback !== undefined) return;
    const lost = batchesBehind(this.posted, this.written) - this.outbox.length;
    reportError(this.onError, new Error(`the run files thread failed (${err instanceof Error ? err.message : String(err)}); ${lost} batches were not written; writing on the main thread from now on`));
    this.fallback = new JsonlSink(this.options);
    // What was not posted yet is not lost: it is written here, in order.
    for (const batch of this.outbox) this.fallback.write(batch);
    this.outbox = [];
    const worker = this.worker;
    this.worker = undefined;
    void worker?.terminate();
    for (const resolve of this.waiting.values()) resolve();
    this.waiting.clear();
  }
}
