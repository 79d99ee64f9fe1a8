/**
 * What `qmem` and `umem` read and write. A store is named: an agent's `memory { session: STM }`
 * entry, or the tier itself for the literal spaces "stm", "ltm" and "episodic". `stm` and
 * `episodic` live for one run; `ltm` persists across runs.
 */
import type { MemorySpace } from '../ais/ops.js';

export interface RunMemory {
  /** The stored entries relevant to `query`, as one string ('' when nothing matches). */
  query(space: MemorySpace, store: string, query: string): string | Promise<string>;
  /** Stores `value`; resolves when it is durable (for `ltm`, on disk). */
  update(space: MemorySpace, store: string, value: string): void | Promise<void>;
}
