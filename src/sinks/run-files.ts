import { closeSync } from 'node:fs';
import { join } from 'node:path';
import { appendLines, forgetLineFile, openLineFile } from './line-file.js';
import { makeDirs } from './make-dirs.js';
import type { ErrorHandler } from './report-error.js';
import { reportError } from './report-error.js';

/**
 * The folder name used for a run. Characters other than letters, digits, `.`, `_` and
 * `-` become `_` (no path separators), as do runs of dots and a leading dot (no `.`,
 * `..` or hidden folders), so `../../etc` becomes `______etc` inside runsDir. Distinct
 * ids may map to one folder (`a/b` and `a_b`); their lines then share an append-only file.
 */
export function runFolderName(runId: string): string {
  if (runId === '') return '_';
  return runId
    .replace(/[^A-Za-z0-9._-]/g, '_')
    .replace(/\.{2,}/g, (dots) => '_'.repeat(dots.length))
    .replace(/^\./, '_');
}

/**
 * One JSON-lines file per run (`<runsDir>/<run>/<fileName>`): at most one append fd per
 * active run, lines gathered per batch and written with one synchronous write per run,
 * so a crash between writes leaves whole lines only. Failures go to `onError`; nothing
 * here throws.
 */
export class RunFiles {
  private readonly fds = new Map<string, number>();
  /** The current batch's lines per run. */
  private readonly pending = new Map<string, string>();

  constructor(
    readonly runsDir: string,
    private readonly fileName: string,
    private readonly onError: ErrorHandler,
  ) {}

  dir(runId: string): string {
    return join(this.runsDir, runFolderName(runId));
  }

  enqueue(runId: string, line: string): void {
    const text = this.pending.get(runId);
    this.pending.set(runId, text === undefined ? line + '\n' : text + line + '\n');
  }

  /** Writes every run's gathered lines. */
  writePending(): void {
    for (const [runId, text] of this.pending) this.append(runId, text);
    this.pending.clear();
  }

  ensureOpen(runId: string): number | undefined {
    const open = this.fds.get(runId);
    if (open !== undefined) return open;
    try {
      const dir = this.dir(runId);
      makeDirs(dir);
      const fd = openLineFile(join(dir, this.fileName));
      this.fds.set(runId, fd);
      return fd;
    } catch (err) {
      reportError(this.onError, err);
      return undefined;
    }
  }

  closeRun(runId: string): void {
    const fd = this.fds.get(runId);
    if (fd === undefined) return;
    this.fds.delete(runId);
    this.closeFd(fd);
  }

  closeAll(): void {
    for (const fd of this.fds.values()) this.closeFd(fd);
    this.fds.clear();
    this.pending.clear();
  }

  private append(runId: string, text: string): void {
    // A run whose run_started was missed (or failed to open) is opened on its first lines.
    const fd = this.ensureOpen(runId);
    if (fd === undefined) return;
    try {
      appendLines(fd, text);
    } catch (err) {
      reportError(this.onError, err);
    }
  }

  private closeFd(fd: number): void {
    forgetLineFile(fd);
    try {
      closeSync(fd);
    } catch (err) {
      reportError(this.onError, err);
    }
  }
}
