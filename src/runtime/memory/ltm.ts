/**
 * Long-term memory: what `umem(..., "ltm")` and every LTM store keep across runs, as JSON
 * Lines, one line per update: {"store":"facts","value":"...","at":"2025-01-01T00:00:00.000Z"}.
 *
 * One instance per file per process, shared by every run: the file is read once into an
 * in-memory index, and updates are appended. Appends queued while a write is in flight go
 * out together in one write and one fdatasync (group commit, as databases do for their
 * logs), so concurrent runs never interleave bytes and a crash leaves whole lines only —
 * except, at worst, a torn last line, which the next load ignores and the next write trims.
 * Any other line that does not parse is skipped and counted in `skippedLines`.
 */
import { mkdir, open, readFile, truncate } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Entry } from './rank.js';
import { entry } from './rank.js';

export const DEFAULT_LTM_PATH = '.flowmeter/memory/ltm.jsonl';

export interface LongTermMemoryOptions {
  /** The JSON Lines file, relative to the working directory. Default `.flowmeter/memory/ltm.jsonl`. */
  readonly path?: string;
  /** fdatasync after each write, so an acknowledged update survives a power cut too. Default true. */
  readonly sync?: boolean;
  /** The clock for `at`; tests pass their own. */
  readonly now?: () => Date;
}

export interface LtmEntry extends Entry {
  readonly store: string;
  readonly at: string;
}

interface Pending {
  readonly entry: LtmEntry;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

function parseLine(line: string): LtmEntry | undefined {
  try {
    const json: unknown = JSON.parse(line);
    if (typeof json !== 'object' || json === null) return undefined;
    const { store, value, at } = json as Record<string, unknown>;
    if (typeof store !== 'string' || typeof value !== 'string' || typeof at !== 'string') return undefined;
    return { store, at, ...entry(value) };
  } catch {
    return undefined;
  }
}

export class LongTermMemory {
  readonly path: string;
  private readonly sync: boolean;
  private readonly now: () => Date;
  private readonly stores = new Map<string, LtmEntry[]>();
  private loading: Promise<void> | undefined;
  private skipped = 0;
  /** Bytes of whole lines when the file ends in a torn line: the next write cuts the file here. */
  private truncateTo: number | undefined;
  /** The file's last line is whole but has no newline: the next write starts with one. */
  private needsNewline = false;
  private handle: FileHandle | undefined;
  private pending: Pending[] = [];
  private draining: Promise<void> | undefined;
  private closed = false;

  constructor(options: LongTermMemoryOptions = {}) {
    this.path = path.resolve(options.path ?? DEFAULT_LTM_PATH);
    this.sync = options.sync ?? true;
    this.now = options.now ?? (() => new Date());
  }

  /** Lines that did not parse and were skipped at load (a torn last line is not counted). */
  get skippedLines(): number {
    return this.skipped;
  }

  /** Reads the file once; later calls return the same promise. A missing file is empty. */
  load(): Promise<void> {
    // A failed read (EACCES) is not cached, so fixing the file and retrying works.
    this.loading ??= this.read().catch((err: unknown) => {
      this.loading = undefined;
      throw err;
    });
    return this.loading;
  }

  private async read(): Promise<void> {
    let bytes: Buffer;
    try {
      bytes = await readFile(this.path);
    } catch (err) {
      // No file yet (or a file where a folder should be, which the first write reports).
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      throw err;
    }
    const end = bytes.lastIndexOf(0x0a) + 1;
    for (const line of bytes.subarray(0, end).toString('utf8').split('\n')) {
      if (line.trim() === '') continue;
      const parsed = parseLine(line);
      if (parsed === undefined) this.skipped++;
      else this.add(parsed);
    }
    const tail = bytes.subarray(end).toString('utf8');
    if (tail.trim() === '') return;
    const last = parseLine(tail);
    if (last === undefined) this.truncateTo = end;
    else {
      this.add(last);
      this.needsNewline = true;
    }
  }

  private add(e: LtmEntry): void {
    const list = this.stores.get(e.store);
    if (list === undefined) this.stores.set(e.store, [e]);
    else list.push(e);
  }

  /** The store's entries, oldest first, across every run that wrote to this file. */
  async entries(store: string): Promise<readonly LtmEntry[]> {
    await this.load();
    return this.stores.get(store) ?? [];
  }

  /** Appends one update; resolves once its line is written (and synced, unless `sync: false`). */
  async append(store: string, value: string): Promise<void> {
    if (this.closed) throw new Error(`long-term memory ${this.path} is closed`);
    await this.load();
    const e: LtmEntry = { store, at: this.now().toISOString(), ...entry(value) };
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ entry: e, resolve, reject });
      this.draining ??= this.drain();
    });
  }

  /**
   * Writes batches until none is pending. It clears `draining` itself, in the same tick as
   * it sees the queue empty, so an update queued just after cannot find a drain that ended.
   */
  private async drain(): Promise<void> {
    try {
      while (this.pending.length > 0) await this.writeBatch();
    } finally {
      this.draining = undefined;
    }
  }

  private async writeBatch(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    try {
      const handle = await this.openForAppend();
      const lines = batch.map((p) => `${JSON.stringify({ store: p.entry.store, value: p.entry.value, at: p.entry.at })}\n`).join('');
      await handle.appendFile(this.needsNewline ? `\n${lines}` : lines);
      this.needsNewline = false;
      if (this.sync) await handle.datasync();
      // Indexed once written, so the index never holds what the file does not.
      for (const p of batch) this.add(p.entry);
      for (const p of batch) p.resolve();
    } catch (err) {
      // The next batch reopens the file rather than trusting a handle that failed.
      await this.closeHandle().catch(() => undefined);
      for (const p of batch) p.reject(err);
    }
  }

  private async openForAppend(): Promise<FileHandle> {
    if (this.handle !== undefined) return this.handle;
    await mkdir(path.dirname(this.path), { recursive: true });
    if (this.truncateTo !== undefined) {
      await truncate(this.path, this.truncateTo);
      this.truncateTo = undefined;
    }
    this.handle = await open(this.path, 'a');
    return this.handle;
  }

  private async closeHandle(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close();
  }

  /** Resolves when every update appended so far is written. */
  async flush(): Promise<void> {
    while (this.draining !== undefined) await this.draining;
  }

  /** Flushes and closes the file; later updates throw. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
    await this.closeHandle();
  }
}
