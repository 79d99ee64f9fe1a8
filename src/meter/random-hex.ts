import { randomFillSync } from 'node:crypto';

/**
 * Random bytes as hex, served from a pool that is refilled 4 KiB at a time: one call into
 * the system's generator per ~180 run and trace ids instead of one per id, which the proxy,
 * with a run per request, would pay on every request. Node's `randomUUID` keeps a cache the
 * same way. The ids name runs; they are not secrets.
 */
const pool = Buffer.alloc(4096);
let used = pool.length;

export function randomHex(bytes: number): string {
  if (used + bytes > pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  const hex = pool.toString('hex', used, used + bytes);
  used += bytes;
  return hex;
}
