/** The runtime's memory: one run's stm and episodic stores, and long-term memory on disk. */
export type { RunMemory } from './memory.js';
export type { LongTermMemoryOptions, LtmEntry } from './ltm.js';
export { DEFAULT_LTM_PATH, LongTermMemory } from './ltm.js';
export type { RunMemoryOptions } from './run-memory.js';
export { createRunMemory } from './run-memory.js';
export type { Entry as MemoryEntry } from './rank.js';
export { QUERY_LIMIT, rank as rankEntries, words as memoryWords } from './rank.js';
