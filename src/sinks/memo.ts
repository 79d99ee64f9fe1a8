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
