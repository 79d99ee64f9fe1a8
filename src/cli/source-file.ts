/**
 * Reading a workflow source for `compile` and `run`, bounded.
 *
 * A workflow is a few kilobytes; the limit is far above any real one (a 100,000-statement
 * chain is about 4 MiB) and stops a mistaken path (`/dev/zero`, a log file, a disk image)
 * from filling memory before the compiler can say it is not a workflow. The file is read
 * in chunks up to the limit, never trusting its reported size: `/dev/zero` and FIFOs
 * report 0.
 */
import { closeSync, openSync, readSync } from 'node:fs';

/** The largest workflow source `compile` and `run` read: 16 MiB. */
export const MAX_SOURCE_BYTES = 16 * 1024 * 1024;

const CHUNK = 64 * 1024;

/** The source was larger than the limit. */
export class SourceTooLargeError extends Error {
  override readonly name = 'SourceTooLargeError';
}

/** The file as UTF-8 text; throws a Node file error, or `SourceTooLargeError` past `limit` bytes. */
export function readWorkflowSource(file: string, limit: number = MAX_SOURCE_BYTES): string {
  const fd = openSync(file, 'r');
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(CHUNK, limit + 1 - total));
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      chunks.push(n === chunk.length ? chunk : chunk.subarray(0, n));
      total += n;
      if (total > limit) throw new SourceTooLargeError(`larger than ${formatMiB(limit)} (the limit for a workflow source): is it a workflow?`);
    }
    return Buffer.concat(chunks, total).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

function formatMiB(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB` : `${bytes} bytes`;
}
