import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * `mkdir -p` one level at a time. Node's own `mkdirSync(path, { recursive: true })`
 * never returns for a path under `/proc` or `/sys` (it retries forever on the ENOENT
 * those file systems answer), which would hang the sink and the run with it. Creating
 * each missing parent ourselves bounds the work by the path's depth, and a folder that
 * cannot exist fails with the system's error, which the sink counts.
 */
export function makeDirs(path: string): void {
  const target = resolve(path);
  const missing: string[] = [];
  for (let dir = target; ; dir = dirname(dir)) {
    if (isDirectory(dir)) break;
    missing.push(dir);
    if (dirname(dir) === dir) break;
  }
  for (let i = missing.length - 1; i >= 0; i--) {
    try {
      mkdirSync(missing[i] as string);
    } catch (err) {
      // Another writer may have made it meanwhile; anything else is the caller's failure.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
