import { fstatSync, ftruncateSync, openSync, readSync } from 'node:fs';
import { writeFullySync } from './write-fully.js';

const NEWLINE = 0x0a;
const CHUNK = 4096;

/**
 * Opens a JSON-lines file for appending, first dropping a torn last line if there is one.
 *
 * Each batch is one write on an append fd, so a crash *between* writes leaves whole lines
 * only. A SIGKILL *during* a large write is different: Linux checks for a fatal signal
 * between pages and returns a short write, so the file can end in a fragment. That
 * fragment would break `jq -s` (zerg's analysis one-liners), and appending after it would
 * glue it to the next line; so when a run's file is reopened (a resumed run, a restarted
 * process) the fragment is cut off and appending resumes on a line boundary.
 */
export function openLineFile(path: string): number {
  // 'a+': writes always append (O_APPEND); reading is only needed for the tail check.
  const fd = openSync(path, 'a+');
  try {
    dropTornTail(fd);
  } catch {
    // Repair is best effort: appending still works, and the caller needs the fd.
  }
  return fd;
}

/** Files whose torn tail could not be cut yet: the next append tries again first. */
const torn = new Set<number>();

/**
 * Appends whole lines (`text` ends with a newline) to a file opened by `openLineFile`.
 * A write that fails part-way (ENOSPC on a full disk, EIO, EFBIG) leaves a fragment;
 * appending the next batch after it would glue two records into one line and break
 * `jq -s` for the whole file. So on failure the file is cut back to its last newline
 * before the error is passed on, and if even that fails, before the next append. When
 * space returns, writing resumes on a line boundary and only the failed batch is lost
 * (counted by the caller as a sink error).
 */
export function appendLines(fd: number, text: string): void {
  if (torn.has(fd)) {
    dropTornTail(fd);
    torn.delete(fd);
  }
  try {
    writeFullySync(fd, text);
  } catch (err) {
    try {
      dropTornTail(fd);
    } catch {
      torn.add(fd);
    }
    throw err;
  }
}

/** Forgets the file's repair state; call when its fd is closed (fd numbers are reused). */
export function forgetLineFile(fd: number): void {
  torn.delete(fd);
}

function dropTornTail(fd: number): void {
  const size = fstatSync(fd).size;
  if (size === 0) return;
  const buffer = Buffer.allocUnsafe(Math.min(size, CHUNK));
  let end = size;
  while (end > 0) {
    const length = Math.min(end, buffer.length);
    const start = end - length;
    const read = readSync(fd, buffer, 0, length, start);
    const newline = buffer.subarray(0, read).lastIndexOf(NEWLINE);
    if (newline !== -1) {
      const keep = start + newline + 1;
      if (keep < size) ftruncateSync(fd, keep);
      return;
    }
    end = start;
  }
  // No newline at all: the whole file is one fragment.
  ftruncateSync(fd, 0);
}
