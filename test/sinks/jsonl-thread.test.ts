import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMeter, MeterConfigError } from '../../src/meter/index.js';
import type { FlowEvent } from '../../src/model/index.js';
import { JsonlSink } from '../../src/sinks/index.js';
import { JsonlThreadSink } from '../../src/sinks/jsonl-thread.js';
import { llmCall, retry, runFinished, runStarted, toolCall } from './fixtures.js';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'flowmeter-jsonl-thread-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Every file under `root`, relative path → contents. */
function tree(root: string, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(join(root, prefix)).sort()) {
    const rel = prefix === '' ? name : join(prefix, name);
    if (statSync(join(root, rel)).isDirectory()) Object.assign(out, tree(root, rel));
    else out[rel] = readFileSync(join(root, rel), 'utf8');
  }
  return out;
}

const batches: readonly (readonly FlowEvent[])[] = [
  [runStarted('run-1'), llmCall(), retry()],
  [runStarted('run-2'), llmCall({ run_id: 'run-2', phase: 'summary' }), toolCall(), toolCall({ success: false, error: 'boom' })],
  [llmCall({ run_id: 'run-2', error_type: 'rate_limit', cost_usd: null }), runFinished('run-1', { retries: 1 })],
  [runStarted('../../etc'), llmCall({ run_id: '../../etc' }), runFinished('../../etc'), runFinished('run-2')],
];

describe('JsonlThreadSink', () => {
  it('writes the same run folders as JsonlSink, byte for byte', async () => {
    const onLoop = new JsonlSink({ runsDir: join(dir, 'loop'), eventLog: true });
    const onThread = new JsonlThreadSink({ runsDir: join(dir, 'thread'), eventLog: true });
    for (const batch of batches) {
      onLoop.write(batch);
      await onThread.write(batch);
    }
    onLoop.close();
    await onThread.close();
    const expected = tree(join(dir, 'loop'));
    expect(Object.keys(expected)).toContain(join('______etc', 'run.json'));
    expect(tree(join(dir, 'thread'))).toEqual(expected);
  });

  it('has every batch written when flush() resolves', async () => {
    const sink = new JsonlThreadSink({ runsDir: dir });
    await sink.write([runStarted(), llmCall()]);
    await sink.flush();
    expect(readFileSync(join(dir, 'run-1', 'metrics.jsonl'), 'utf8').trim().split('\n')).toHaveLength(1);
    await sink.write([llmCall(), runFinished()]);
    await sink.flush();
    expect(readFileSync(join(dir, 'run-1', 'metrics.jsonl'), 'utf8').trim().split('\n')).toHaveLength(2);
    expect(JSON.parse(readFileSync(join(dir, 'run-1', 'run.json'), 'utf8'))).toMatchObject({ run_id: 'run-1' });
    await sink.close();
  });

  it('reports a file-system failure through onError by the time flush() resolves', async () => {
    const blocker = join(dir, 'not-a-folder');
    writeFileSync(blocker, '');
    const errors: unknown[] = [];
    const sink = new JsonlThreadSink({ runsDir: join(blocker, 'runs'), onError: (err) => errors.push(err) });
    await sink.write([runStarted(), llmCall(), runFinished()]);
    await sink.flush();
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0]).toMatchObject({ code: 'ENOTDIR' });
    await sink.close();
  });

  it('reports events written after close, and closes once', async () => {
    const errors: unknown[] = [];
    const sink = new JsonlThreadSink({ runsDir: dir, onError: (err) => errors.push(err) });
    await sink.write([runStarted()]);
    await Promise.all([sink.close(), sink.close()]);
    await sink.write([llmCall()]);
    expect(String(errors[0])).toMatch(/closed; dropped 1 events/);
    expect(readFileSync(join(dir, 'run-1', 'metrics.jsonl'), 'utf8')).toBe('');
  });

  it('goes on writing on the event loop when its thread dies, and says so once', async () => {
    const errors: unknown[] = [];
    const sink = new JsonlThreadSink({ runsDir: dir, onError: (err) => errors.push(err) });
    await sink.write([runStarted(), llmCall()]);
    await sink.flush();
    const thread = (sink as unknown as { worker: Worker }).worker;
    await thread.terminate();
    await sink.write([llmCall({ phase: 'summary' }), runFinished()]);
    await sink.flush();
    expect(errors.map(String)).toEqual([expect.stringMatching(/thread failed .*; 0 batches were not written/)]);
    expect(readFileSync(join(dir, 'run-1', 'metrics.jsonl'), 'utf8').trim().split('\n')).toHaveLength(2);
    expect(JSON.parse(readFileSync(join(dir, 'run-1', 'run.json'), 'utf8'))).toMatchObject({ run_id: 'run-1' });
    await sink.close();
  });

  it('starts no thread for a sink that never writes', async () => {
    const sink = new JsonlThreadSink({ runsDir: dir });
    await sink.flush();
    await sink.close();
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe("createMeter({ fileWriter: 'thread' })", () => {
  it('has the run files written when meter.run resolves', async () => {
    const runsDir = join(dir, 'runs');
    const meter = createMeter({ runsDir, fileWriter: 'thread', store: false, log: false, env: {} });
    await meter.run({ runId: 'on-thread' }, async () => {
      await meter.llmCall({ model: 'gpt-4o-mini' }, () => ({ usage: { prompt_tokens: 10, completion_tokens: 2 } }));
    });
    expect(readFileSync(join(runsDir, 'on-thread', 'metrics.jsonl'), 'utf8').trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(readFileSync(join(runsDir, 'on-thread', 'run.json'), 'utf8'))).toMatchObject({ run_id: 'on-thread', outcome: 'success' });
    await meter.close();
    expect(meter.diagnostics().sink_errors).toEqual({});
  });

  it('has runs ended with flowEnd written when flush() resolves', async () => {
    const runsDir = join(dir, 'runs');
    const meter = createMeter({ runsDir, fileWriter: 'thread', store: false, log: false, env: {} });
    for (let i = 0; i < 50; i++) meter.flowStart({ runId: `r${i}` }).flowEnd();
    await meter.flush();
    expect(readdirSync(runsDir)).toHaveLength(50);
    for (let i = 0; i < 50; i++) expect(readdirSync(join(runsDir, `r${i}`)).sort()).toEqual(['events.jsonl', 'metrics.jsonl', 'run.json']);
    await meter.close();
  });

  it('writes every run before a process that never flushes exits', () => {
    const runsDir = join(dir, 'runs');
    const child = join(import.meta.dirname, 'fixtures', 'thread-exit-child.ts');
    const result = spawnSync(process.execPath, ['--import', 'tsx', child, runsDir], { encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
    expect(readdirSync(runsDir)).toHaveLength(200);
    for (const run of readdirSync(runsDir)) expect(JSON.parse(readFileSync(join(runsDir, run, 'run.json'), 'utf8'))).toMatchObject({ run_id: run });
  });

  it('rejects a writer it does not know', () => {
    expect(() => createMeter({ fileWriter: 'async' as 'thread', env: {} })).toThrow(MeterConfigError);
  });
});
