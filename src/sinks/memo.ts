/**
 * Remembers the encoding of strings that repeat on almost every line — model, provider,
 * phase, run and step ids, tool names — so each is escape-checked once, not per event.
 * Bounded: when full it starts over, so a stream of distinct values (timestamps, or ids
 * from untrusted input) costs a check each but never grows memory.
 */
export function memoizeEncoding(encode: (value: string) => string, capacity = 4096): (value: string) => string {
  let cache = new Map<string, string>();
  return (value) => {
    const hit = cache.get(value);
    if (hit !== undefined) return hit;
    const encoded = encode(value);
    if (cache.size >= capacity) cache = new Map();
    cache.set(value, encoded);
    return encoded;
  };
}

/**
 * Remembers the text built for the last value while `same` says a new one would give the
 * same text. A run's events repeat their labels call after call (model, phase, run and flow
 * ids, one stamp per millisecond), mostly as the very same string objects, so a few
 * comparisons replace re-encoding them and concatenating the pieces again. One entry:
 * alternating values cost a rebuild each, never memory. `same` must compare every field
 * `build` reads; values are taken as immutable, as events are (readonly data).
 */
export function memoizeLast<T>(build: (value: T) => string, same: (a: T, b: T) => boolean): (value: T) => string {
  let last: T | undefined;
  let text = '';
  return (value) => {
    if (last !== undefined && (last === value || same(last, value))) return text;
    text = build(value);
    last = value;
    return text;
  };
}
