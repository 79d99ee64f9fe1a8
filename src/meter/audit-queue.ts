import type { FlowEvent } from '../model/index.js';
import type { Sink } from '../sinks/sink.js';
import type { Diagnostics } from './diagnostics.js';

/** How many unsettled batches an async sink may hold before it is considered stuck. */
const MAX_PENDING_BATCHES = 64;

interface SinkSlot {
  readonly sink: Sink;
  pending: number;
  readonly inFlight: Set<Promise<void>>;
}

/** What a full queue does: drop and count the event (never slow the caller), or make the caller wait. */
export type OnFull = 'drop' | 'wait';

/**
 * The audit path (Union Square ADR-0016): recording pushes events into a bounded queue
 * and returns; sinks receive them in order from `setImmediate`, off the caller's stack.
 * A sink that throws is counted; a sink that hangs stops receiving batches after
 * MAX_PENDING_BATCHES and the rest are counted, so one bad sink never slows the run or
 * the other sinks.
 *
 * A full queue either drops and counts (`drop`, the default: the program never waits
 * for its instrumentation) or applies backpressure (`wait`): the event is kept and the
 * queue is handed to the sinks on the caller's stack, and `pressure()` gives callers
 * that can await (an LLM call's promise, a scheduler between nodes) a promise to wait
 * on until the sinks have caught up. A loop of instant calls that never yields to the
 * event loop would otherwise fill any bound.
 */
export class AuditQueue {
  private queue: FlowEvent[] = [];

  /** Events waiting for the sinks. */
  get depth(): number {
    return this.queue.length;
  }
  private scheduled = false;
  private readonly slots: SinkSlot[];
  private caughtUp: Promise<void> | undefined;

  constructor(
    sinks: readonly Sink[],
    private readonly capacity: number,
    private readonly diagnostics: Diagnostics,
    private readonly onFull: OnFull = 'drop',
  ) {
    this.slots = sinks.map((sink) => ({ sink, pending: 0, inFlight: new Set() }));
  }

  /**
   * Queues `event`; false when it was dropped (and counted). `keep` takes an event past
   * the bound even in `drop` mode: the end of something whose start was queued (a step's
   * end, a run's end), so that a reader pairing starts with ends is never left with an
   * open one. Those are bounded by the starts that were taken.
   */
  push(event: FlowEvent, keep = false): boolean {
    if (this.queue.length >= this.capacity) {
      if (this.onFull === 'wait') this.drain();
      else if (!keep) {
        this.diagnostics.droppedEvent();
        return false;
      }
    }
    this.queue.push(event);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.drain);
    }
    return true;
  }

  /**
   * In `wait` mode, a promise to await before recording more when the queue is half full
   * or an async sink holds half its allowed batches; undefined when there is no need to
   * wait (and always in `drop` mode), so the common case costs no promise.
   */
  pressure(): Promise<void> | undefined {
    if (this.onFull !== 'wait') return undefined;
    if (this.caughtUp !== undefined) return this.caughtUp;
    const busy = this.slots.filter((slot) => slot.pending >= MAX_PENDING_BATCHES / 2);
    if (this.queue.length < this.capacity / 2 && busy.length === 0) return undefined;
    this.caughtUp = new Promise<void>((resolve) => setImmediate(resolve))
      .then(async () => {
        this.drain();
        await Promise.all(busy.flatMap((slot) => [...slot.inFlight]));
      })
      .finally(() => {
        this.caughtUp = undefined;
      });
    return this.caughtUp;
  }

  /** Hands everything queued so far to the sinks, now. Synchronous sinks are done when it returns. */
  readonly drain = (): void => {
    this.scheduled = false;
    if (this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    for (const slot of this.slots) this.deliver(slot, batch);
  };

  private deliver(slot: SinkSlot, batch: readonly FlowEvent[]): void {
    if (slot.pending >= MAX_PENDING_BATCHES) {
      this.diagnostics.sinkError(slot.sink.name, new Error(`${slot.pending} batches still pending; sink looks stuck`));
      return;
    }
    let result: void | Promise<void>;
    try {
      result = slot.sink.write(batch);
    } catch (err) {
      this.diagnostics.sinkError(slot.sink.name, err);
      return;
    }
    if (result === undefined || typeof result.then !== 'function') return;
    slot.pending++;
    // Promise.resolve adopts a foreign thenable inside a job, so a `then` that throws becomes
    // a rejection here instead of an exception thrown out of the drain.
    const settled: Promise<void> = Promise.resolve(result).then(
      () => undefined,
      (err: unknown) => this.diagnostics.sinkError(slot.sink.name, err),
    );
    const tracked = settled.finally(() => {
      slot.pending--;
      slot.inFlight.delete(tracked);
    });
    slot.inFlight.add(tracked);
  }

  /**
   * Drains, then waits for async sinks to settle their batches and flush, but no longer
   * than `timeoutMs`: a hung sink cannot hold up shutdown forever. A sink that is given
   * up on is counted, since its batches may never be written.
   */
  async flush(timeoutMs: number): Promise<void> {
    this.drain();
    await this.eachSink('flush', timeoutMs, async (slot) => {
      await Promise.all(slot.inFlight);
      await slot.sink.flush?.();
    });
  }

  async close(timeoutMs: number): Promise<void> {
    await this.flush(timeoutMs);
    await this.eachSink('close', timeoutMs, async (slot) => {
      await slot.sink.close?.();
    });
  }

  /** Runs `step` for every sink at once; a failure, or no answer within `timeoutMs`, counts against that sink. */
  private async eachSink(what: string, timeoutMs: number, step: (slot: SinkSlot) => Promise<void>): Promise<void> {
    await Promise.all(
      this.slots.map(async (slot) => {
        const work = step(slot).catch((err: unknown) => this.diagnostics.sinkError(slot.sink.name, err));
        if (!(await settleWithin(work, timeoutMs))) {
          this.diagnostics.sinkError(slot.sink.name, new Error(`${what} did not finish within ${timeoutMs}ms`));
        }
      }),
    );
  }
}

/** True when `work` settled within `timeoutMs`. */
async function settleWithin(work: Promise<unknown>, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
    timer.unref();
  });
  try {
    return await Promise.race([work.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
