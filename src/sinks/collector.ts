import { randomBytes } from 'node:crypto';
import type { FlowEvent } from '../model/index.js';
import type { ErrorHandler } from './report-error.js';
import { ignoreError, reportError } from './report-error.js';
import type { Sink } from './sink.js';

export interface CollectorSinkOptions {
  /** The collector's base URL, e.g. `http://127.0.0.1:9108` (`flowmeter serve`). */
  readonly url: string;
  /** Sent as `Authorization: Bearer <token>`. */
  readonly token?: string;
  /** Events sent at once, at most. Default 2,000. */
  readonly batchSize?: number;
  /** How long events wait for more before they are sent. Default 200 ms. */
  readonly intervalMs?: number;
  /** Events kept while the collector is unreachable; older ones are dropped past it (and counted). Default 100,000. */
  readonly maxBuffered?: number;
  readonly onError?: ErrorHandler;
}

/**
 * Sends the meter's events to a collector (`flowmeter serve`) as NDJSON batches on
 * `POST /api/events`, so runs of many processes land in one store and one dashboard. Sends
 * off the run's path; while the collector is down it keeps a bounded backlog and retries
 * with backoff. A batch the collector refuses as malformed (400) is dropped and reported:
 * sending it again would be refused again.
 */
export class CollectorSink implements Sink {
  readonly name = 'collector';
  readonly #url: string;
  readonly #headers: Record<string, string>;
  readonly #batchSize: number;
  readonly #intervalMs: number;
  readonly #max: number;
  readonly #onError: ErrorHandler;
  readonly #pending: string[] = [];
  #timer: NodeJS.Timeout | undefined;
  #sending: Promise<void> | undefined;
  #backoffMs = 0;
  #closed = false;
  /** Events dropped: refused by the collector, or past the backlog while it was down. */
  dropped = 0;
  sent = 0;

  constructor(options: CollectorSinkOptions) {
    let base: URL;
    try {
      base = new URL(options.url);
    } catch {
      throw new Error(`collector: ${JSON.stringify(options.url)} is not a URL; use e.g. http://127.0.0.1:9108`);
    }
    this.#url = new URL('/api/events', base).toString();
    this.#headers = {
      'content-type': 'application/x-ndjson',
      // One id per sink: the collector numbers each run's calls per client.
      'x-flowmeter-client': randomBytes(8).toString('hex'),
      ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
    };
    this.#batchSize = options.batchSize ?? 2_000;
    this.#intervalMs = options.intervalMs ?? 200;
    this.#max = options.maxBuffered ?? 100_000;
    this.#onError = options.onError ?? ignoreError;
  }

  write(events: readonly FlowEvent[]): void {
    if (this.#closed) return;
    for (const event of events) this.#pending.push(JSON.stringify(event));
    const over = this.#pending.length - this.#max;
    if (over > 0) {
      this.#pending.splice(0, over);
      this.dropped += over;
      reportError(this.#onError, new Error(`collector: ${over} events dropped (backlog of ${this.#max} full; is ${this.#url} reachable?)`));
    }
    if (this.#pending.length >= this.#batchSize && this.#backoffMs === 0) void this.#send();
    else this.#arm();
  }

  #arm(): void {
    if (this.#timer !== undefined || this.#pending.length === 0) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#send();
    }, this.#intervalMs + this.#backoffMs);
    this.#timer.unref();
  }

  /** Sends batches until the backlog is empty or the collector fails; one send at a time. */
  #send(): Promise<void> {
    this.#sending ??= (async () => {
      try {
        while (this.#pending.length > 0) {
          const lines = this.#pending.slice(0, this.#batchSize);
          let status: number;
          try {
            const res = await fetch(this.#url, { method: 'POST', headers: this.#headers, body: lines.join('\n') + '\n', signal: AbortSignal.timeout(10_000) });
            status = res.status;
            if (!res.ok) reportError(this.#onError, new Error(`collector: ${this.#url} answered ${res.status}: ${(await res.text()).trim().slice(0, 300)}`));
            else await res.arrayBuffer();
          } catch (err) {
            reportError(this.#onError, err);
            status = 0;
          }
          if (status >= 200 && status < 300) {
            this.#pending.splice(0, lines.length);
            this.sent += lines.length;
            this.#backoffMs = 0;
          } else if (status === 400 || status === 413 || status === 401 || status === 403) {
            // Sending the same batch again gets the same answer.
            this.#pending.splice(0, lines.length);
            this.dropped += lines.length;
            this.#backoffMs = 0;
          } else {
            this.#backoffMs = Math.min(30_000, Math.max(500, this.#backoffMs * 2));
            return;
          }
        }
      } finally {
        this.#sending = undefined;
        this.#arm();
      }
    })();
    return this.#sending;
  }

  async flush(): Promise<void> {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    await this.#sending;
    this.#backoffMs = 0;
    await this.#send();
  }

  async close(): Promise<void> {
    await this.flush();
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
  }
}
