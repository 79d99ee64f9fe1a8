/**
 * Seeded randomness for the simulated provider. Each call gets its own generator, seeded
 * from (seed, call index), so call N draws the same numbers however calls interleave.
 */

/** mulberry32: small, fast, and good enough to drive a simulation deterministically. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A seed for call `index` of a generator seeded with `seed`: MurmurHash3's 32-bit
 * finaliser over seed + index × the golden ratio, so neighbouring indexes get unrelated
 * streams.
 */
export function callSeed(seed: number, index: number): number {
  let h = (seed + Math.imul(index + 1, 0x9e3779b9)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * A log-normal draw with the given median, via Box–Muller. LLM latency and answer
 * length are right-skewed: most calls sit near the median, a few take several times it.
 */
export function logNormal(random: () => number, median: number, sigma: number): number {
  const u = 1 - random(); // (0, 1]: log(0) would be -Infinity
  const v = random();
  const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  return median * Math.exp(sigma * z);
}
