import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LongTermMemory, createRunMemory } from '../../../src/runtime/memory/index.js';

const line = (store: string, value: string, at = '2025-01-01T00:00:00.000Z'): string => `${JSON.stringify({ store, value, at })}\n`;
const values = async (ltm: LongTermMemory, store: string): Promise<string[]> => (await ltm.entries(store)).map((e) => e.value);

describe('LongTermMemory', () => {
  let dir: string;
  let file: string;
  const open: LongTermMemory[] = [];
  const memory = (options: { sync?: boolean; now?: () => Date } = {}): LongTermMemory => {
    const ltm = new LongTermMemory({ path: file, ...options });
    open.push(ltm);
    return ltm;
  };
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'flowmeter-ltm-'));
    file = path.join(dir, 'nested', 'memory', 'ltm.jsonl');
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((ltm) => ltm.close()));
    await rm(dir, { recursive: true, force: true });
  });

  it('writes one JSON line per update, creating its directory on demand', async () => {
    const ltm = memory({ now: () => new Date('2025-03-04T05:06:07.000Z') });
    expect(await values(ltm, 'facts')).toEqual([]);
    await ltm.append('facts', 'likes "tea"\nand cake');
    expect(await readFile(file, 'utf8')).toBe(line('facts', 'likes "tea"\nand cake', '2025-03-04T05:06:07.000Z'));
  });

  it('persists across instances on the same file, in insertion order', async () => {
    const first = memory();
    await createRunMemory({ ltm: first }).update('ltm', 'facts', 'alice speaks french');
    await first.append('facts', 'alice lives in lyon');
    await first.close();
    const second = memory();
    expect(await values(second, 'facts')).toEqual(['alice speaks french', 'alice lives in lyon']);
    expect(await createRunMemory({ ltm: second }).query('ltm', 'facts', 'where does alice live')).toBe('alice lives in lyon\nalice speaks french');
  });

  it('ignores a torn last line and trims it on the next write', async () => {
    await memory().append('facts', 'whole');
    await appendFile(file, '{"store":"facts","value":"torn by a cra');
    const ltm = memory();
    expect(await values(ltm, 'facts')).toEqual(['whole']);
    expect(ltm.skippedLines).toBe(0);
    await ltm.append('facts', 'after');
    const lines = (await readFile(file, 'utf8')).split('\n');
    expect(lines.map((l) => (l === '' ? '' : (JSON.parse(l) as { value: string }).value))).toEqual(['whole', 'after', '']);
  });

  it('keeps a whole last line that lacks its newline, and writes the next update on a line of its own', async () => {
    await memory().append('s', 'one');
    await writeFile(file, line('s', 'one').trimEnd());
    const ltm = memory({ now: () => new Date('2025-01-01T00:00:00.000Z') });
    await ltm.append('s', 'two');
    expect(await values(ltm, 's')).toEqual(['one', 'two']);
    expect(await readFile(file, 'utf8')).toBe(line('s', 'one') + line('s', 'two'));
  });

  it('rejects an update it cannot write, and does not index it', async () => {
    await writeFile(path.join(dir, 'nested'), 'a file where a directory should be');
    const ltm = memory();
    await expect(ltm.append('s', 'lost')).rejects.toMatchObject({ code: expect.stringMatching(/^(ENOTDIR|EEXIST)$/) as unknown });
    expect(await values(ltm, 's')).toEqual([]);
  });

  it('skips and counts malformed lines in the middle of the file', async () => {
    await memory().append('s', 'first');
    await appendFile(file, 'not json\n{"store":"s"}\n[1,2]\n\n' + line('s', 'last'));
    const ltm = memory();
    expect(await values(ltm, 's')).toEqual(['first', 'last']);
    expect(ltm.skippedLines).toBe(3);
  });

  it('lands every update of many concurrent runs as a whole line', async () => {
    const ltm = memory();
    const runs = Array.from({ length: 40 }, () => createRunMemory({ ltm }));
    const long = 'x'.repeat(5000);
    await Promise.all(runs.map(async (run, r) => {
      for (let i = 0; i < 5; i++) await run.update('ltm', `store${r % 4}`, `run ${r} update ${i} ${long}`);
    }));
    const lines = (await readFile(file, 'utf8')).split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(200);
    const seen = new Set(lines.map((l) => (JSON.parse(l) as { value: string }).value.split(' x')[0]));
    expect(seen.size).toBe(200);
    // Each run's own updates are in the order it made them.
    const order = lines.map((l) => /^run (\d+) update (\d+)/.exec((JSON.parse(l) as { value: string }).value)!.slice(1).map(Number));
    for (let r = 0; r < 40; r++) expect(order.filter(([run]) => run === r).map(([, i]) => i)).toEqual([0, 1, 2, 3, 4]);
    const reread = memory();
    expect((await reread.entries('store1')).length).toBe(50);
    expect(await values(reread, 'store1')).toEqual(await values(ltm, 'store1'));
  });

  it('refuses updates after close, and closes twice harmlessly', async () => {
    const ltm = memory();
    await ltm.append('s', 'v');
    await ltm.close();
    await ltm.close();
    await expect(ltm.append('s', 'late')).rejects.toThrow(`long-term memory ${file} is closed`);
  });
});
