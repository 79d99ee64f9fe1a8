/**
 * The ready queue: a binary max-heap of node ids in an Int32Array, ordered by priority
 * (higher first) and then by id (lower first), so equal-priority nodes run in a stable,
 * topological-friendly order. No objects per entry: a push is a few integer moves.
 */
export class ReadyHeap {
  #ids: Int32Array;
  #size = 0;
  readonly #priority: Float64Array;

  constructor(priority: Float64Array, capacity: number) {
    this.#priority = priority;
    this.#ids = new Int32Array(Math.max(4, capacity));
  }

  get size(): number {
    return this.#size;
  }

  /** True if a should come out before b. */
  #before(a: number, b: number): boolean {
    const pa = this.#priority[a]!;
    const pb = this.#priority[b]!;
    return pa > pb || (pa === pb && a < b);
  }

  push(id: number): void {
    if (this.#size === this.#ids.length) {
      const grown = new Int32Array(this.#ids.length * 2);
      grown.set(this.#ids);
      this.#ids = grown;
    }
    const ids = this.#ids;
    let i = this.#size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = ids[parent]!;
      if (!this.#before(id, p)) break;
      ids[i] = p;
      i = parent;
    }
    ids[i] = id;
  }

  /** Removes and returns the first id; -1 when empty. */
  pop(): number {
    if (this.#size === 0) return -1;
    const ids = this.#ids;
    const top = ids[0]!;
    const last = ids[--this.#size]!;
    const size = this.#size;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= size) break;
      const r = l + 1;
      const c = r < size && this.#before(ids[r]!, ids[l]!) ? r : l;
      if (!this.#before(ids[c]!, last)) break;
      ids[i] = ids[c]!;
      i = c;
    }
    ids[i] = last;
    return top;
  }
}
