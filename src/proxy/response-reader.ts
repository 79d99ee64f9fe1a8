import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { Transform } from 'node:stream';
import { SseParser } from '../runtime/providers/sse.js';
import { CallObserver } from './call-observer.js';
import type { Endpoint } from './endpoints.js';
import { RawEventSplitter, filterChatEvent } from './include-usage.js';

/** A JSON body larger than this is forwarded whole but not read for usage (counted as `unread_body`). */
export const MAX_READ_BYTES = 16 * 1024 * 1024;

/**
 * Reads one metered response as it flows to the client. Plain streams go on chunk by
 * chunk as they arrive and are read beside; a chat stream whose usage the proxy asked
 * for goes on event by event, with the usage chunk held back. A compressed answer goes
 * on compressed and is read through a decompressor. Nothing here throws into the
 * response: a body that cannot be read only leaves the call's usage unknown.
 */
export class ResponseReader {
  readonly observer: CallObserver;
  private readonly decoder = new TextDecoder();
  private readonly parser = new SseParser();
  private readonly splitter: RawEventSplitter | undefined;
  private readonly inflate: Transform | undefined;
  private readonly json: Buffer[] | undefined;
  private jsonBytes = 0;
  /** The body was too large to read, or could not be decompressed. */
  unread = false;
  private sawContent = false;

  constructor(
    endpoint: Endpoint,
    readonly sse: boolean,
    /** Hold back the injected usage chunk: the body is rewritten, so it must be plain text. */
    readonly filter: boolean,
    encoding: string | undefined,
    private readonly onFirstContent: () => void,
  ) {
    this.observer = new CallObserver(endpoint);
    if (filter && sse) this.splitter = new RawEventSplitter();
    if (!sse) this.json = [];
    this.inflate = filter ? undefined : decompressor(encoding);
    if (this.inflate !== undefined) {
      this.inflate.on('data', (chunk: Buffer) => this.read(chunk));
      this.inflate.on('error', () => {
        this.unread = true;
      });
    }
  }

  /**
   * Takes one chunk from the upstream and returns what the client gets now: the chunk
   * itself, or (filtering) the whole events completed by it, minus the usage chunk.
   */
  chunk(chunk: Buffer): Buffer | string {
    if (this.splitter !== undefined) return this.filterText(this.decoder.decode(chunk, { stream: true }));
    if (this.inflate !== undefined) this.inflate.write(chunk);
    else this.read(chunk);
    return chunk;
  }

  /** The stream ended: the rest of a filtered stream for the client, and the last events read. */
  end(): string {
    if (this.splitter !== undefined) {
      const text = this.filterText(this.decoder.decode()) + this.splitter.end();
      this.drainParser();
      return text;
    }
    if (this.inflate !== undefined) {
      // Whatever the decompressor still holds arrives synchronously on end() for a whole body.
      this.inflate.end();
    } else this.finishRead();
    return '';
  }

  /** After `end()`: for a compressed body, wait for the decompressor to flush. */
  settled(): Promise<void> {
    const inflate = this.inflate;
    if (inflate === undefined) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = (): void => {
        this.finishRead();
        resolve();
      };
      if (inflate.readableEnded || inflate.destroyed) done();
      else {
        inflate.once('end', done);
        inflate.once('error', done);
      }
    });
  }

  private read(bytes: Buffer): void {
    if (this.json !== undefined) {
      this.jsonBytes += bytes.length;
      if (this.jsonBytes > MAX_READ_BYTES) this.unread = true;
      else this.json.push(bytes);
      return;
    }
    for (const ev of this.parser.push(this.decoder.decode(bytes, { stream: true }))) this.see(ev);
  }

  private finishRead(): void {
    if (this.json !== undefined) {
      if (!this.unread && this.jsonBytes > 0) this.observer.body(Buffer.concat(this.json).toString('utf8'));
      return;
    }
    for (const ev of this.parser.push(this.decoder.decode())) this.see(ev);
    this.drainParser();
  }

  private drainParser(): void {
    for (const ev of this.parser.end()) this.see(ev);
  }

  private filterText(text: string): string {
    let out = '';
    for (const raw of this.splitter!.push(text)) {
      let kept = raw;
      for (const ev of this.parser.push(raw)) kept = filterChatEvent(raw, this.see(ev));
      out += kept;
    }
    return out;
  }

  private see(ev: { event: string; data: string }): Readonly<Record<string, unknown>> | undefined {
    const data = this.observer.event(ev);
    if (!this.sawContent && this.observer.firstContent) {
      this.sawContent = true;
      this.onFirstContent();
    }
    return data;
  }
}

function decompressor(encoding: string | undefined): Transform | undefined {
  switch (encoding?.trim().toLowerCase()) {
    case 'gzip':
    case 'x-gzip':
      return createGunzip();
    case 'deflate':
      return createInflate();
    case 'br':
      return createBrotliDecompress();
    case undefined:
    default:
      return undefined;
  }
}
