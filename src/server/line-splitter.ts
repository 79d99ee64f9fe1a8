/**
 * A line longer than this is not an event the meter wrote (events are a few hundred
 * bytes; one with huge attributes a few KiB). Past it the bytes are dropped until the next
 * newline, so a file without newlines cannot grow the buffer without bound.
 */
export const MAX_LINE_BYTES = 8 * 1024 * 1024;

const NEWLINE = 0x0a;

/**
 * Cuts a byte stream into lines. Splitting happens on bytes, not text, so a UTF-8
 * character cut in two by a chunk boundary is whole again when its line is decoded.
 * The bytes after the last newline (a line still being written) wait for the next chunk.
 */
export class LineSplitter {
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #discarding = false;

  /** True while an unfinished line waits for its newline. */
  get partial(): boolean {
    return this.#pendingBytes > 0 || this.#discarding;
  }

  /**
   * Hands every line the chunk completes to `onLine` (without its `\n` or `\r\n`; blank
   * lines are skipped). `chunk` may be reused by the caller afterwards: what is kept is copied.
   */
  push(chunk: Buffer, onLine: (line: string) => void, onOverlong: () => void): void {
    let start = 0;
    for (let nl = chunk.indexOf(NEWLINE, start); nl !== -1; nl = chunk.indexOf(NEWLINE, start)) {
      const piece = chunk.subarray(start, nl);
      start = nl + 1;
      if (this.#discarding) {
        // The end of a line already counted as over-long.
        this.#discarding = false;
        continue;
      }
      if (this.#pendingBytes + piece.length > MAX_LINE_BYTES) {
        this.#reset();
        onOverlong();
        continue;
      }
      const bytes = this.#pending.length === 0 ? piece : Buffer.concat([...this.#pending, piece]);
      this.#reset();
      emit(bytes, onLine);
    }
    if (start >= chunk.length || this.#discarding) return;
    const rest = chunk.subarray(start);
    if (this.#pendingBytes + rest.length > MAX_LINE_BYTES) {
      this.#reset();
      this.#discarding = true;
      onOverlong();
      return;
    }
    this.#pending.push(Buffer.from(rest));
    this.#pendingBytes += rest.length;
  }

  #reset(): void {
    this.#pending = [];
    this.#pendingBytes = 0;
  }
}

function emit(bytes: Buffer, onLine: (line: string) => void): void {
  let text = bytes.toString('utf8');
  if (text.endsWith('\r')) text = text.slice(0, -1);
  if (text.trim() !== '') onLine(text);
}
