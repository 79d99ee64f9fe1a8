import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunMemory } from '../../../src/runtime/memory/index.js';
import { LongTermMemory, createRunMemory, memoryWords } from '../../../src/runtime/memory/index.js';

describe('createRunMemory', () => {
  let dir: string;
  let ltm: LongTermMemory;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'flowmeter-run-memory-'));
    ltm = new LongTermMemory({ path: path.join(dir, 'ltm.jsonl'), sync: false });
  });
  afterEach(async () => {
    await ltm.close();
    await rm(dir, { recursive: true, force: true });
  });

  const fill = async (memory: RunMemory, space: 'stm' | 'ltm' | 'episodic', store: string, values: readonly string[]): Promise<void> => {
    for (const value of values) await memory.update(space, store, value);
  };

  it('gives each run its own stm and episodic stores', async () => {
    const first = createRunMemory({ ltm });
    const second = createRunMemory({ ltm });
    await first.update('stm', 'session', 'alice likes tea');
    await first.update('episodic', 'episodic', 'alice ordered tea');
    expect(await first.query('stm', 'session', 'tea')).toBe('alice likes tea');
    expect(await first.query('episodic', 'episodic', 'tea')).toBe('#1 alice ordered tea');
    expect(await second.query('stm', 'session', 'tea')).toBe('');
    expect(await second.query('episodic', 'episodic', 'tea')).toBe('');
  });

  it('keeps named stores apart within a run', async () => {
    const memory = createRunMemory({ ltm });
    await memory.update('stm', 'session', 'red apples');
    await memory.update('stm', 'scratch', 'green apples');
    expect(await memory.query('stm', 'session', 'apples')).toBe('red apples');
    expect(await memory.query('stm', 'scratch', 'apples')).toBe('green apples');
  });

  it('shares ltm between runs', async () => {
    await createRunMemory({ ltm }).update('ltm', 'facts', 'bob is vegetarian');
    expect(await createRunMemory({ ltm }).query('ltm', 'facts', 'is bob vegetarian?')).toBe('bob is vegetarian');
    expect(await createRunMemory({ ltm }).query('ltm', 'other', 'bob')).toBe('');
  });

  it('ranks by shared distinct words, newest first among ties, and leaves out entries sharing none', async () => {
    const memory = createRunMemory({ ltm });
    await fill(memory, 'ltm', 'facts', ['cats sleep a lot', 'the cat food brand is acme', 'dogs and cats and cats', 'weather is sunny', 'cats like food']);
    // "cats food": 'cats like food' shares 2; the three with one shared word tie, newest first.
    expect(await memory.query('ltm', 'facts', 'Cats? FOOD!')).toBe(['cats like food', 'dogs and cats and cats', 'the cat food brand is acme', 'cats sleep a lot'].join('\n'));
  });

  it('returns at most five entries, and a stored value once', async () => {
    const memory = createRunMemory({ ltm });
    await fill(memory, 'episodic', 'log', ['step 1', 'step 2', 'step 2', 'step 3', 'step 4', 'step 5', 'step 6']);
    expect(await memory.query('episodic', 'log', 'step')).toBe(['#7 step 6', '#6 step 5', '#5 step 4', '#4 step 3', '#3 step 2'].join('\n'));
  });

  it('ignores one-letter words and punctuation when matching', async () => {
    expect([...memoryWords("I'm a C++ dev, año 2024!")]).toEqual(['dev', 'año', '2024']);
    const memory = createRunMemory({ ltm });
    await memory.update('episodic', 'e', 'a b c');
    expect(await memory.query('episodic', 'e', 'a b c')).toBe('');
  });

  it('falls back to the last five stm entries, oldest first, when nothing matches', async () => {
    const memory = createRunMemory({ ltm });
    await fill(memory, 'stm', 'session', ['u: hi', 'a: hello', 'u: weather?', 'a: sunny', 'u: thanks', 'a: welcome']);
    const lastFive = ['a: hello', 'u: weather?', 'a: sunny', 'u: thanks', 'a: welcome'].join('\n');
    expect(await memory.query('stm', 'session', 'zebra')).toBe(lastFive);
    expect(await memory.query('stm', 'session', '')).toBe(lastFive);
    expect(await memory.query('stm', 'session', 'sunny')).toBe('a: sunny');
  });

  it('answers an empty store with the empty string in every space', async () => {
    const memory = createRunMemory({ ltm });
    for (const space of ['stm', 'ltm', 'episodic'] as const) expect(await memory.query(space, 'empty', 'anything')).toBe('');
  });

  it('numbers episodes across all of a run’s episodic stores', async () => {
    const memory = createRunMemory({ ltm });
    await memory.update('episodic', 'a', 'deploy started');
    await memory.update('episodic', 'b', 'unrelated');
    await memory.update('episodic', 'a', 'deploy failed');
    expect(await memory.query('episodic', 'a', 'deploy')).toBe('#3 deploy failed\n#1 deploy started');
    expect(await createRunMemory({ ltm }).update('episodic', 'a', 'new run')).toBeUndefined();
  });
});
