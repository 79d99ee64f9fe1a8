/**
 * One run's memory: what `qmem` and `umem` see. `stm` and `episodic` stores are fresh for
 * every run and die with it; `ltm` stores are delegated to the process's one
 * `LongTermMemory`, so every run reads what earlier runs (and concurrent ones) wrote.
 *
 * `query(space, store, q)` ranks the store's entries by how many distinct words of `q` they
 * share (see rank.ts): at most 5, best first, newest first among ties, joined by "\n";
 * entries sharing no word are left out, and an empty store gives ''. Two tiers differ:
 *   - stm is the recent conversation, so when no entry matches it returns its last 5
 *     entries instead, oldest first, as a transcript reads;
 *   - episodic entries carry their sequence number in the run (1, 2, ... across all the
 *     run's episodic stores) and come back as "#3 <value>", so a model can tell which
 *     episode came first even though the list is ordered by relevance.
 * ltm entries keep their insertion order across runs (the file's order), which is what
 * "newest" means for them.
 */
import type { MemorySpace } from '../ais/ops.js';
import type { LongTermMemory } from './ltm.js';
import type { RunMemory } from './memory.js';
import type { Entry } from './rank.js';
import { QUERY_LIMIT, entry, rank } from './rank.js';

export interface RunMemoryOptions {
  readonly ltm: LongTermMemory;
}

interface Episode extends Entry {
  readonly seq: number;
}

function push<T>(stores: Map<string, T[]>, store: string, item: T): void {
  const list = stores.get(store);
  if (list === undefined) stores.set(store, [item]);
  else list.push(item);
}

export function createRunMemory(options: RunMemoryOptions): RunMemory {
  const { ltm } = options;
  const stm = new Map<string, Entry[]>();
  const episodic = new Map<string, Episode[]>();
  let episodes = 0;

  function queryStm(store: string, query: string): string {
    const entries = stm.get(store) ?? [];
    const found = rank(entries, query);
    const chosen = found.length > 0 ? found : entries.slice(-QUERY_LIMIT);
    return chosen.map((e) => e.value).join('\n');
  }

  return {
    query(space: MemorySpace, store: string, query: string): string | Promise<string> {
      switch (space) {
        case 'stm':
          return queryStm(store, query);
        case 'episodic':
          return rank(episodic.get(store) ?? [], query)
            .map((e) => `#${e.seq} ${e.value}`)
            .join('\n');
        case 'ltm':
          return ltm.entries(store).then((entries) =>
            rank(entries, query)
              .map((e) => e.value)
              .join('\n'),
          );
        default: {
          // Reachable from JavaScript callers, which the compiler never saw.
          const unknown: never = space;
          throw new Error(`unknown memory space "${String(unknown)}"; use stm, ltm or episodic`);
        }
      }
    },

    update(space: MemorySpace, store: string, value: string): void | Promise<void> {
      switch (space) {
        case 'stm':
          push(stm, store, entry(value));
          return;
        case 'episodic':
          push(episodic, store, { seq: ++episodes, ...entry(value) });
          return;
        case 'ltm':
          return ltm.append(store, value);
        default: {
          const unknown: never = space;
          throw new Error(`unknown memory space "${String(unknown)}"; use stm, ltm or episodic`);
        }
      }
    },
  };
}
