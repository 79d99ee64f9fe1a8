import type { FlowEvent } from '../model/index.js';

/**
 * An audit-path consumer of events. The meter hands each sink batches of events in
 * the order they happened, outside the recording call. A sink may be synchronous
 * (file and log sinks write whole lines at once) or return a promise; the run never
 * waits for it. A throw or a rejection is caught, counted and reported once.
 */
export interface Sink {
  readonly name: string;
  write(events: readonly FlowEvent[]): void | Promise<void>;
  /** Push out anything buffered. Idempotent. */
  flush?(): void | Promise<void>;
  /** Release files and handles. A second call is harmless. */
  close?(): void | Promise<void>;
}

/** Keeps every event in memory: for tests, and for apps that read events back. */
export class InMemorySink implements Sink {
  readonly name = 'memory';
  readonly events: FlowEvent[] = [];

  write(events: readonly FlowEvent[]): void {
    for (const event of events) this.events.push(event);
  }

  ofKind<K extends FlowEvent['kind']>(kind: K): Extract<FlowEvent, { kind: K }>[] {
    return this.events.filter((e): e is Extract<FlowEvent, { kind: K }> => e.kind === kind);
  }

  clear(): void {
    this.events.length = 0;
  }
}
