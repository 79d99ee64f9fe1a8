import { closeSync } from 'node:fs';
import { dirname } from 'node:path';
import { appendLines, forgetLineFile, openLineFile } from './line-file.js';
import { makeDirs } from './make-dirs.js';
import { writeFullySync } from './write-fully.js';

/** Anything with a `write(string)`: a Writable, a test collector, a custom transport. */
export interface LogWritable {
  write(chunk: string): unknown;
}

/**
 * Where tier-3 lines go: fd 2, fd 1, a file (appended, folder created) given as
 * `{ path }` or as a plain path string (as pino takes it), or a writable.
 */
export type LogDestination = 'stderr' | 'stdout' | (string & {}) | { readonly path: string } | LogWritable;

/** Takes one whole batch of lines per call; throws on failure (the sink reports it). */
export interface BatchOutput {
  write(text: string): void;
  close(): void;
}

export function openLogDestination(destination: LogDestination): BatchOutput {
  if (destination === 'stderr') return fdOutput(2);
  if (destination === 'stdout') return fdOutput(1);
  if (typeof destination === 'string' && destination !== '') return new FileOutput(destination);
  // Check `write` first: a fs.WriteStream has both `write` and `path`, and is a writable.
  if (typeof destination === 'object' && destination !== null) {
    if ('write' in destination && typeof destination.write === 'function') return writableOutput(destination);
    if ('path' in destination && typeof destination.path === 'string' && destination.path !== '') {
      return new FileOutput(destination.path);
    }
  }
  throw new Error(
    "LogSink `destination` must be 'stderr', 'stdout', a file path, { path: 'logs/flowmeter.log' } or an object with write(string)",
  );
}

/**
 * stdout and stderr are written with fs.writeSync, not process.stderr.write: the batch
 * reaches the fd before write() returns, even if the process exits right after the
 * synchronous end-of-run batch.
 */
function fdOutput(fd: number): BatchOutput {
  return {
    write: (text) => writeFullySync(fd, text),
    // The process owns fds 1 and 2.
    close: () => {},
  };
}

function writableOutput(writable: LogWritable): BatchOutput {
  return { write: (text) => void writable.write(text), close: () => {} };
}

/** Appends to a file; opened on the first batch, so an unwritable path is reported, not thrown at startup. */
class FileOutput implements BatchOutput {
  private fd: number | undefined;

  constructor(private readonly path: string) {}

  write(text: string): void {
    if (this.fd === undefined) {
      makeDirs(dirname(this.path));
      this.fd = openLineFile(this.path);
    }
    // A failed write is cut back to the last whole line (line-file.ts), so a full disk
    // never leaves a fragment for the next batch to be glued onto.
    appendLines(this.fd, text);
  }

  close(): void {
    if (this.fd === undefined) return;
    const fd = this.fd;
    this.fd = undefined;
    forgetLineFile(fd);
    closeSync(fd);
  }
}
