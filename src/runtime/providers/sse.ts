/**
 * A Server-Sent Events parser after the WHATWG HTML spec ("Parsing an event stream"):
 * lines end in CRLF, LF or CR; `:` starts a comment (`: keep-alive`, OpenRouter's
 * `: OPENROUTER PROCESSING`); `data:` lines accumulate, joined by LF; a blank line
 * dispatches. Network chunks may split anywhere — inside a line, between CR and LF, or
 * inside a UTF-8 character — so bytes are decoded in streaming mode and partial lines kept.
 */

export interface SseEvent {
  /** The `event:` field, `message` when absent (OpenAI sends none; Anthropic names each). */
  readonly event: string;
  readonly data: string;
}

const LF = 10;
const CR = 13;

export class SseParser {
  private buffer = '';
  private eventType = '';
  private data: string[] = [];

  /** Feeds decoded text; returns the events it completed. */
  push(text: string): SseEvent[] {
    this.buffer += text;
    return this.drain(false);
  }

  /**
   * Ends the stream. The spec discards an event that no blank line ended; we dispatch it,
   * as some OpenAI-compatible servers close right after their last `data:` line.
   */
  end(): SseEvent[] {
    const events = this.drain(true);
    if (this.buffer.length > 0) this.line(this.buffer, events);
    this.buffer = '';
    this.line('', events);
    return events;
  }

  private drain(final: boolean): SseEvent[] {
    const events: SseEvent[] = [];
    const buf = this.buffer;
    let start = 0;
    for (let i = 0; i < buf.length; i++) {
      const c = buf.charCodeAt(i);
      if (c !== LF && c !== CR) continue;
      // A CR that ends the chunk may be half of a CRLF whose LF is in the next chunk.
      if (c === CR && i === buf.length - 1 && !final) break;
      this.line(buf.slice(start, i), events);
      if (c === CR && buf.charCodeAt(i + 1) === LF) i++;
      start = i + 1;
    }
    this.buffer = buf.slice(start);
    return events;
  }

  private line(line: string, events: SseEvent[]): void {
    if (line.length === 0) {
      if (this.data.length > 0) events.push({ event: this.eventType || 'message', data: this.data.join('\n') });
      this.data = [];
      this.eventType = '';
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.eventType = value;
    // `id` and `retry` only matter to a reconnecting EventSource; a completion is not resumed.
  }
}

/** The events of a response body, decoded and parsed as they arrive. */
export async function* readSse(body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  const parser = new SseParser();
  for await (const chunk of body) yield* parser.push(decoder.decode(chunk, { stream: true }));
  yield* parser.push(decoder.decode());
  yield* parser.end();
}
