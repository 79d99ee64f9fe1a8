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

/**
 * The audit path (Union Square ADR-0016): recording pushes events into a bounded queue
 * and returns; sinks receive them in order from `setImmediate`, off the caller's stack.
 * A full queue drops and counts. A sink that throws is counted; a sink that hangs
 * stops receiving batches after MAX_PENDING_BATCHES and the rest are counted, so one
 * bad sink never slows the run or the other sinks.
 */
export class AuditQueue {
  private queue: FlowEvent[] = [];
  private scheduled = false;
  private readonly slots: SinkSlot[];

  constructor(
    sinks: readonly Sink[],
    private readonly capacity: number,
    private readonly diagnostics: Diagnostics,
  ) {
    this.slots = sinks.map((sink) => ({ sink, pending: 0, inFlight: new Set() }));
  }

  push(event: FlowEvent): void {
    if (this.queue.length >= this.capacity) {
      this.diagnostics.droppedEvent();
      return;
    }
    this.queue.push(event);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.drain);
    }
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
