import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { FlowEvent } from '../model/index.js';
import { EVENTS_FILE } from '../sinks/index.js';
import { LineSplitter } from './line-splitter.js';
import { parseFlowEvent } from './parse-event.js';

export interface RunsTailerOptions {
  /** The folder that holds one folder per run, each with an events.jsonl. */
  readonly runsDir: string;
  /** Called once per event, in file order within a run. A throw is reported, not fatal. */
  readonly onEvent: (event: FlowEvent) => void;
  /** Between scans; default 1000 ms. */
  readonly pollMs?: number;
  /** Read failures, each reported once per file and cause. */
  readonly onError?: (err: unknown) => void;
}

export interface TailerStats {
  /** events.jsonl files being followed. */
  readonly files: number;
  /** Events handed to `onEvent`. */
  readonly events: number;
  /** Complete lines that were not a FlowEvent, skipped. */
  readonly malformed: number;
}

interface Tail {
  ino: number;
  offset: number;
  readonly lines: LineSplitter;
  /** The run wrote its run_finished line; the meter appends nothing after it. */
  settled: boolean;
}

const CHUNK_BYTES = 64 * 1024;
// Files of finished runs are re-checked every this many scans, not every scan: a folder
// of 100k finished runs then costs a readdir per scan, not 100k stats. They are still
// re-checked because two run ids may map to one folder (runFolderName) and share a file.
const SETTLED_EVERY = 30;
// Workers reading files at once during a scan: enough to hide I/O latency, few enough
// not to hold many descriptors.
const READERS = 8;

function codeOf(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null ? (err as { code?: string }).code : undefined;
}

/**
 * Follows `<runsDir>/*\/events.jsonl` of runs written by other processes, like `tail -F`
 * over a folder: the runs present at start, then new runs and new lines, one scan every
 * `pollMs`. Only new bytes are read, in chunks (no huge synchronous read blocks the
 * server); a line still being written is kept until its newline arrives. Nothing throws
 * out of a scan: failures go to `onError` (STYLE.md 6, error tier 3).
 */
export class RunsTailer {
  readonly runsDir: string;
  readonly #onEvent: (event: FlowEvent) => void;
  readonly #onError: (err: unknown) => void;
  readonly #pollMs: number;
  readonly #tails = new Map<string, Tail>();
  /** File (or source) → the failure last reported for it, so a stuck file is not reported every second. */
  readonly #reported = new Map<string, string>();
  #events = 0;
  #malformed = 0;
  #scans = 0;
  #scanning: Promise<void> | undefined;
  #started: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: RunsTailerOptions) {
    if (typeof options.runsDir !== 'string' || options.runsDir === '') throw new Error('RunsTailer needs `runsDir`, the folder that holds one folder per run');
    const pollMs = options.pollMs ?? 1000;
    if (!Number.isInteger(pollMs) || pollMs <= 0) throw new Error(`RunsTailer: pollMs must be a positive integer, got ${String(options.pollMs)}`);
    this.runsDir = options.runsDir;
    this.#onEvent = options.onEvent;
    this.#onError = options.onError ?? (() => undefined);
    this.#pollMs = pollMs;
  }

  /** Reads everything already there, then keeps scanning every `pollMs` until `close()`. */
  start(): Promise<void> {
    this.#started ??= this.#safePoll().then(() => this.#schedule());
    return this.#started;
  }

  /** One scan. Concurrent calls share the scan in progress. */
  poll(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#scanning ??= this.#scan().finally(() => {
      this.#scanning = undefined;
    });
    return this.#scanning;
  }

  stats(): TailerStats {
    return { files: this.#tails.size, events: this.#events, malformed: this.#malformed };
  }

  /** Stops scanning and waits for a scan in progress. A second call is harmless. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#scanning;
  }

  #schedule(): void {
    if (this.#closed) return;
    this.#timer = setTimeout(() => {
      void this.#safePoll().then(() => this.#schedule());
    }, this.#pollMs);
    // The tailer alone never keeps a process alive; the server it feeds does.
    this.#timer.unref();
  }

  /** A scan whose unexpected failure is reported, so the loop goes on (a scan catches what it expects itself). */
  #safePoll(): Promise<void> {
    return this.poll().catch((err: unknown) => this.#report('scan', err));
  }

  async #scan(): Promise<void> {
    const names = await this.#listRuns();
    if (names === undefined) return;
    const full = this.#scans++ % SETTLED_EVERY === 0;
    const files: string[] = [];
    const present = new Set<string>();
    for (const name of names) {
      const file = join(this.runsDir, name, EVENTS_FILE);
      present.add(file);
      if (full || this.#tails.get(file)?.settled !== true) files.push(file);
    }
    // A run folder that was removed: forget it, so its state does not pile up.
    for (const file of this.#tails.keys()) if (!present.has(file)) this.#tails.delete(file);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < files.length && !this.#closed) await this.#follow(files[next++] as string);
    };
    await Promise.all(Array.from({ length: Math.min(READERS, files.length) }, worker));
  }

  /**
   * Run folder names, oldest first (they sort by start time), so older runs are taken up
   * first; undefined while the folder does not exist. Runs are then read in parallel:
   * only the order within a run is kept, which is all a counter or histogram needs.
   */
  async #listRuns(): Promise<string[] | undefined> {
    try {
      const entries = await readdir(this.runsDir, { withFileTypes: true });
      return entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
    } catch (err) {
      // Not there yet: the first run creates it. Anything else (a file in its place, no permission) is reported.
      if (codeOf(err) !== 'ENOENT') this.#report(this.runsDir, err);
      return undefined;
    }
  }

  async #follow(file: string): Promise<void> {
    try {
      const info = await stat(file);
      let tail = this.#tails.get(file);
      if (tail === undefined || info.ino !== tail.ino || info.size < tail.offset) {
        // New, replaced or truncated: read from the start.
        tail = { ino: info.ino, offset: 0, lines: new LineSplitter(), settled: false };
        this.#tails.set(file, tail);
      }
      if (info.size > tail.offset) await this.#read(file, tail, info.size);
      this.#reported.delete(file);
    } catch (err) {
      // A run folder without events.jsonl yet (its first batch is not written) is normal.
      if (codeOf(err) !== 'ENOENT') this.#report(file, err);
    }
  }

  /** Reads `[offset, size)` in chunks; bytes appended meanwhile are the next scan's. */
  async #read(file: string, tail: Tail, size: number): Promise<void> {
    const handle = await open(file, 'r');
    try {
      const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
      while (tail.offset < size && !this.#closed) {
        const { bytesRead } = await handle.read(chunk, 0, Math.min(CHUNK_BYTES, size - tail.offset), tail.offset);
        if (bytesRead === 0) break;
        tail.offset += bytesRead;
        tail.lines.push(chunk.subarray(0, bytesRead), (line) => this.#line(tail, line), () => this.#malformed++);
      }
    } finally {
      await handle.close();
    }
  }

  #line(tail: Tail, line: string): void {
    const event = parseFlowEvent(line);
    if (event === undefined) {
      this.#malformed++;
      return;
    }
    this.#events++;
    if (event.kind === 'run_finished') tail.settled = true;
    try {
      this.#onEvent(event);
    } catch (err) {
      this.#report('onEvent', err);
    }
  }

  #report(key: string, err: unknown): void {
    const id = codeOf(err) ?? (err instanceof Error ? err.message : String(err));
    if (this.#reported.get(key) === id) return;
    this.#reported.set(key, id);
    try {
      this.#onError(err);
    } catch {
      // The error channel failing must not stop the tailer either.
    }
  }
}
