import type { FlowEvent } from '../model/index.js';
import type { Sink } from '../sinks/index.js';
import type { ErrorHandler } from '../sinks/report-error.js';
import { reportError, writeEach } from '../sinks/report-error.js';

/** What an OpenTelemetry SDK provider (meter or tracer) offers a sink. */
interface Provider {
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

/**
 * The part of flowmeter's OpenTelemetry sinks that is the same for metrics and spans: events
 * are recorded one by one (a failing one costs that event only), `flush` exports now, and
 * `close` exports what is left and stops; after it, events are dropped and reported.
 */
export abstract class OtelProviderSink implements Sink {
  abstract readonly name: string;
  protected readonly onError: ErrorHandler;
  #closing: Promise<void> | null = null;

  protected constructor(onError: ErrorHandler) {
    this.onError = onError;
  }

  /** The SDK provider the sink records into. */
  protected abstract get provider(): Provider;
  protected abstract record(event: FlowEvent): void;
  /** Called once by `close`, before the provider shuts down. */
  protected beforeShutdown(): void {}

  write(events: readonly FlowEvent[]): void {
    writeEach(events, this.#closing === null ? null : this.constructor.name, this.onError, (event) => this.record(event));
  }

  /** Exports now; resolves when the collector has answered (or the export failed and was reported). */
  async flush(): Promise<void> {
    if (this.#closing !== null) return this.#closing;
    try {
      await this.provider.forceFlush();
    } catch (err) {
      reportError(this.onError, err);
    }
  }

  /** Exports what is left and stops. A second call returns the first call's promise. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.beforeShutdown();
      await this.provider.shutdown().catch((err: unknown) => reportError(this.onError, err));
    })();
    return this.#closing;
  }
}
