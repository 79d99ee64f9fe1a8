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
    const settled: Promise<void> = result.then(
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
   * than `timeoutMs`: a hung sink cannot hold up shutdown forever.
   */
  async flush(timeoutMs: number): Promise<void> {
    this.drain();
    const work = Promise.all(
      this.slots.map(async (slot) => {
        await Promise.all(slot.inFlight);
        try {
          await slot.sink.flush?.();
        } catch (err) {
          this.diagnostics.sinkError(slot.sink.name, err);
        }
      }),
    );
    await settleWithin(work, timeoutMs);
  }

  async close(timeoutMs: number): Promise<void> {
    await this.flush(timeoutMs);
    const work = Promise.all(
      this.slots.map(async (slot) => {
        try {
          await slot.sink.close?.();
        } catch (err) {
          this.diagnostics.sinkError(slot.sink.name, err);
        }
      }),
    );
    await settleWithin(work, timeoutMs);
  }
}

async function settleWithin(work: Promise<unknown>, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
    timer.unref();
  });
  try {
    await Promise.race([work.then(() => undefined), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
