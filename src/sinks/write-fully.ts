import { writeSync } from 'node:fs';

/**
 * Writes all of `text` to `fd` with synchronous writes, looping on partial writes.
 *
 * File sinks write one whole batch per call on an fd opened with the append flag, so
 * every line reaches the file in one piece and a crash between batches leaves only
 * complete lines (zerg's metrics.jsonl must stay parseable by `jq -s`).
 *
 * stdout and stderr may be non-blocking pipes that answer EAGAIN when full; like
 * pino's sonic-boom we wait briefly and retry, but only a bounded number of times,
 * so a stuck reader costs the audit path at most ~100 ms before the error surfaces.
 */
export function writeFullySync(fd: number, text: string): void {
  const first = writeWithRetry(fd, text);
  const total = Buffer.byteLength(text);
  if (first === total) return;
  // Partial write: continue from the byte offset, which needs the encoded bytes.
  const bytes = Buffer.from(text, 'utf8');
  let offset = first;
  while (offset < total) offset += writeWithRetry(fd, bytes, offset);
}

const EAGAIN_WAIT_MS = 5;
const EAGAIN_MAX_WAITS = 20;
// One shared cell for Atomics.wait: a synchronous sleep that allocates nothing per call.
const sleepCell = new Int32Array(new SharedArrayBuffer(4));

function writeWithRetry(fd: number, data: string | Buffer, offset = 0): number {
  for (let waits = 0; ; waits++) {
    try {
      const written =
        typeof data === 'string' ? writeSync(fd, data) : writeSync(fd, data, offset, data.length - offset);
      if (written > 0) return written;
    } catch (err) {
      if (!isEagain(err) || waits >= EAGAIN_MAX_WAITS) throw err;
    }
    // Zero bytes written counts as a wait too, so this loop always ends.
    if (waits >= EAGAIN_MAX_WAITS) throw new Error(`write to fd ${fd} made no progress`);
    Atomics.wait(sleepCell, 0, 0, EAGAIN_WAIT_MS);
  }
}

function isEagain(err: unknown): boolean {
  return typeof err === 'object' && err !== null && 'code' in err && err.code === 'EAGAIN';
}
