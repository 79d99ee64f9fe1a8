/**
 * Where the exposition is written: UTF-8 bytes in a Buffer that doubles when full.
 *
 * Why not `out += line`: a string built by concatenation is a tree of ConsStrings that all
 * stay alive until the end, so every minor GC during a large render copies them again.
 * Measured on 10,000 histogram series (160,000 lines, 15.6 MB), that made the render about
 * twice as slow and produced 20–50 ms scavenges, longer than a whole render slice. Bytes
 * in a Buffer live outside the V8 heap; the short strings made per series die young.
 * Text is gathered into pieces of ~16 kB before each copy into the buffer: a copy has a
 * fixed cost, and per line it made a 10,000-counter render twice as slow.
 */
/** How much text to gather before a copy into the buffer. */
export const PIECE = 16 * 1024;

export class OutputBuffer {
  #bytes: Buffer;
  #length = 0;
  #pending = '';

  constructor(capacity: number) {
    this.#bytes = Buffer.allocUnsafe(Math.max(1024, capacity));
  }

  /** Bytes written so far (pending text not included). */
  get length(): number {
    return this.#length;
  }

  write(text: string): void {
    if (text === '') return;
    const pending = this.#pending + text;
    if (pending.length < PIECE) {
      this.#pending = pending;
      return;
    }
    this.#pending = '';
    this.#copy(pending);
  }

  /** Copies pending text into the buffer (before a pause, so no rope waits across GCs). */
  flush(): void {
    if (this.#pending === '') return;
    const pending = this.#pending;
    this.#pending = '';
    this.#copy(pending);
  }

  toString(): string {
    this.flush();
    return this.#bytes.toString('utf8', 0, this.#length);
  }

  #copy(text: string): void {
    // A UTF-16 code unit takes at most 3 bytes in UTF-8 (a surrogate pair, two units, takes 4).
    const worst = this.#length + text.length * 3;
    if (worst > this.#bytes.length) this.#grow(worst);
    this.#length += this.#bytes.write(text, this.#length, 'utf8');
  }

  #grow(needed: number): void {
    let size = this.#bytes.length * 2;
    while (size < needed) size *= 2;
    const grown = Buffer.allocUnsafe(size);
    this.#bytes.copy(grown, 0, 0, this.#length);
    this.#bytes = grown;
  }
}
