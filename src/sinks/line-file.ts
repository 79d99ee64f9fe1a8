import { fstatSync, ftruncateSync, openSync, readSync } from 'node:fs';

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
