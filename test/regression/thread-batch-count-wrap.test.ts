import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JsonlThreadSink } from '../../src/sinks/jsonl-thread.js';
import { llmCall, runFinished, runStarted } from '../sinks/fixtures.js';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'flowmeter-wrap-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

// The run-files thread counts the batches it has written in an Int32 (for Atomics.wait),
// which wraps after 2^31 batches: days of a busy proxy. Compared with the main thread's
// count as plain numbers, every batch then looked unwritten, so an exit waited out its
// whole timeout (and every write asked the audit queue to wait).
describe('the run-files thread after 2^31 batches', () => {
  it('still knows what it has written', async () => {
    const sink = new JsonlThreadSink({ runsDir: dir });
    const inner = sink as unknown as { posted: number; written: Int32Array };
    inner.posted = 2 ** 31 - 2;
    Atomics.store(inner.written, 0, 2 ** 31 - 2);
    for (const batch of [[runStarted()], [llmCall()], [runFinished()]]) expect(sink.write(batch)).toBeUndefined();
    const start = performance.now();
    sink.settleSync(2_000);
    expect(performance.now() - start).toBeLessThan(1_000);
    expect(JSON.parse(readFileSync(join(dir, 'run-1', 'run.json'), 'utf8'))).toMatchObject({ run_id: 'run-1' });
    for (let i = 0; i < 3; i++) expect(sink.write([llmCall()])).toBeUndefined();
    await sink.close();
  });
});
