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
  /**
   * A run that has not written for `staleAfterMs` while steps were open (its process was
   * killed inside them) is given up on: `onStale` is told how many of its steps no longer
   * run, so an in-flight gauge returns to zero. Default 10 minutes.
   */
  readonly staleAfterMs?: number;
  readonly onStale?: (stale: StaleRun) => void;
}

/** Steps of a run that stopped writing without ending them. */
export interface StaleRun {
  readonly runId: string;
  readonly flowId: string;
  readonly steps: number;
}

export interface TailerStats {
  /** events.jsonl files being followed. */
  readonly files: number;
  /** Events handed to `onEvent`. */
  readonly events: number;
  /** Complete lines that were not a FlowEvent, skipped. */
  readonly malformed: number;
}

/**
 * What was read of one run's events.jsonl, keyed by the run's folder, never by inode: a
 * file copied and moved back over itself (log rotation by cp+mv, `sed -i`) or a folder
 * moved away and back is the same run, and its events were counted once already. The
 * state of a run whose folder disappears is kept for the same reason.
 */
interface Tail {
  offset: number;
  lines: LineSplitter;
  /** The run wrote its run_finished line; the meter appends nothing after it. */
  settled: boolean;
  /** Steps started and not yet finished, and the run they belong to (for onStale). */
  open: number;
  runId: string;
  flowId: string;
  /** The file's last modification, from the last stat. */
  mtimeMs: number;
}

const CHUNK_BYTES = 64 * 1024;
// Files of finished runs are re-checked (two run ids may map to one folder and share a
// file; a finished run's file may be appended to) at most this many per scan, in turn: a
// folder of up to that many runs sees appended lines at the next scan, and a folder of
// 100k finished runs costs a readdir and 2,000 stats per scan, not 100k.
const SETTLED_PER_SCAN = 2000;
const DEFAULT_STALE_AFTER_MS = 10 * 60_000;
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
  readonly #staleAfterMs: number;
  readonly #onStale: (stale: StaleRun) => void;
  /** Run folder name → what was read of its events.jsonl. */
  readonly #tails = new Map<string, Tail>();
  #present = 0;
  #settledCursor = 0;
  /** File (or source) → the failure last reported for it, so a stuck file is not reported every second. */
  readonly #reported = new Map<string, string>();
  #events = 0;
  #malformed = 0;
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
    const staleAfterMs = options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
    if (!Number.isInteger(staleAfterMs) || staleAfterMs <= 0) throw new Error(`RunsTailer: staleAfterMs must be a positive integer, got ${String(options.staleAfterMs)}`);
    this.#staleAfterMs = staleAfterMs;
    this.#onStale = options.onStale ?? (() => undefined);
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
    return { files: this.#present, events: this.#events, malformed: this.#malformed };
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
    const open: string[] = [];
    const settled: string[] = [];
    for (const name of names) (this.#tails.get(name)?.settled === true ? settled : open).push(name);
    this.#present = names.length;
    const queue = [...open, ...this.#settledSlice(settled)];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < queue.length && !this.#closed) await this.#follow(queue[next++] as string);
    };
    await Promise.all(Array.from({ length: Math.min(READERS, queue.length) }, worker));
    this.#expireStale();
  }

  /** The next SETTLED_PER_SCAN finished runs, round-robin over scans. */
  #settledSlice(settled: readonly string[]): readonly string[] {
    if (settled.length <= SETTLED_PER_SCAN) return settled;
    const from = this.#settledCursor % settled.length;
    this.#settledCursor = from + SETTLED_PER_SCAN;
    const slice = settled.slice(from, from + SETTLED_PER_SCAN);
    return slice.length === SETTLED_PER_SCAN ? slice : [...slice, ...settled.slice(0, SETTLED_PER_SCAN - slice.length)];
  }

  /** Gives up on the open steps of runs that stopped writing without finishing (kill -9). */
  #expireStale(): void {
    const now = Date.now();
    for (const tail of this.#tails.values()) {
      if (tail.settled || tail.open === 0 || now - tail.mtimeMs < this.#staleAfterMs) continue;
      const stale = { runId: tail.runId, flowId: tail.flowId, steps: tail.open };
      tail.open = 0;
      try {
        this.#onStale(stale);
      } catch (err) {
        this.#report('onStale', err);
      }
    }
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

  async #follow(name: string): Promise<void> {
    const file = join(this.runsDir, name, EVENTS_FILE);
    try {
      const info = await stat(file);
      let tail = this.#tails.get(name);
      if (tail === undefined) {
        tail = { offset: 0, lines: new LineSplitter(), settled: false, open: 0, runId: name, flowId: '', mtimeMs: info.mtimeMs };
        this.#tails.set(name, tail);
      }
      tail.mtimeMs = info.mtimeMs;
      if (info.size < tail.offset) {
        // Shorter than what was read: a torn last line was cut off (the meter does that when
        // it reopens a run's file), or the file was rewritten. Events already counted stay
        // counted; reading goes on from the new end, on a line boundary.
        if (!tail.lines.partial) this.#report(file, new Error(`${file} shrank from ${tail.offset} to ${info.size} bytes; its events already read stay counted`));
        tail.offset = info.size;
        tail.lines = new LineSplitter();
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
    switch (event.kind) {
      case 'step_started':
        tail.open++;
        tail.runId = event.run_id;
        tail.flowId = event.flow_id;
        break;
      case 'step_finished':
        if (tail.open > 0) tail.open--;
        break;
      case 'run_finished':
        tail.settled = true;
        tail.open = 0;
        break;
      case 'run_started':
      case 'llm_call':
      case 'tool_call':
      case 'retry':
      case 'tokens':
        break;
      default: {
        const unreachable: never = event;
        return unreachable;
      }
    }
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
