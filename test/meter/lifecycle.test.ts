import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createMeter } from '../../src/meter/index.js';
import type { FlowEvent } from '../../src/model/index.js';
import type { Sink } from '../../src/sinks/index.js';
import { PRICED_MODEL, harness, openAiResponse, sleep } from './fixtures.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const exitChild = fileURLToPath(new URL('./fixtures/exit-child.ts', import.meta.url));

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'flowmeter-meter-'));
  dirs.push(dir);
  return dir;
}

function jsonLines(path: string): Record<string, unknown>[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('flush and close', () => {
  it('is harmless to close twice: the second call returns the same promise and sinks close once', async () => {
    const close = vi.fn();
    const { meter } = harness({ sinks: [{ name: 'spy', write: () => undefined, close }] });
    await meter.runSettled({}, () => 1);
    const first = meter.close();
    const second = meter.close();
    expect(second).toBe(first);
    await first;
    await meter.close();
    expect(close).toHaveBeenCalledTimes(1);
  });

  it('is harmless to flush after close', async () => {
    const { meter } = harness();
    await meter.close();
    await expect(meter.flush()).resolves.toBeUndefined();
    await expect(meter.close()).resolves.toBeUndefined();
  });

  it('hands queued events to the sinks on flush()', async () => {
    const { meter, sink } = harness();
    const run = meter.flowStart('f');
    // The audit path delivers off the caller's stack, so nothing has arrived yet.
    expect(sink.events).toEqual([]);
    await meter.flush();
    expect(sink.events.map((e) => e.kind)).toEqual(['run_started']);
    run.flowEnd(true);
  });

  it('waits in flush() for an async sink to finish its batches', async () => {
    const written: FlowEvent[] = [];
    const slow: Sink = {
      name: 'slow',
      write: async (events) => {
        await sleep(20);
        written.push(...events);
      },
    };
    const { meter, sink } = harness({ sinks: [slow] });
    await meter.runSettled({}, () => meter.llmCall({ model: PRICED_MODEL }, () => openAiResponse(1, 1)));
    await meter.flush();
    expect(written).toEqual(sink.events);
    expect(meter.diagnostics().sink_errors).toEqual({});
  });

  it('has the run files written when meter.run resolves, and releases them on close', async () => {
    const runsDir = tempDir();
    const meter = createMeter({ runsDir, log: false, env: {}, prices: { models: { [PRICED_MODEL]: { input: 1, output: 1 } } } });
    const result = await meter.runSettled({ runId: 'file-run' }, async () => {
      await meter.llmCall({ model: PRICED_MODEL }, () => openAiResponse(10, 2));
      await meter.toolCall('search', () => 'ok');
    });
    const folder = join(runsDir, 'file-run');
    const lines = jsonLines(join(folder, 'metrics.jsonl'));
    expect(lines.map((l) => l.event)).toEqual(['llm_call', 'tool_call']);
    expect(existsSync(join(folder, 'run.json'))).toBe(true);
    expect(JSON.parse(readFileSync(join(folder, 'run.json'), 'utf8'))).toMatchObject({ run_id: 'file-run', total_tokens: result.event!.total_tokens });
    await meter.close();
    expect(meter.diagnostics().sink_errors).toEqual({});
  });
});

describe('the process exit hook', () => {
  it('does not add an exit listener per meter', async () => {
    const before = process.listenerCount('exit');
    const meters = Array.from({ length: 100 }, () => createMeter({ runsDir: false, log: false, env: {} }));
    expect(process.listenerCount('exit')).toBeLessThanOrEqual(before + 1);
    await Promise.all(meters.map((m) => m.close()));
    expect(process.listenerCount('exit')).toBeLessThanOrEqual(before);
  });

  it('does not grow the exit listeners over many create/close cycles', async () => {
    const before = process.listenerCount('exit');
    for (let i = 0; i < 200; i++) {
      const meter = createMeter({ runsDir: false, log: false, env: {} });
      await meter.runSettled({}, () => i);
      await meter.close();
    }
    expect(process.listenerCount('exit')).toBeLessThanOrEqual(before);
  });

  it('writes queued events to synchronous sinks when the process exits before they were drained', () => {
    const runsDir = tempDir();
    const result = spawnSync(process.execPath, ['--import', 'tsx', exitChild, runsDir], { cwd: root, encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const lines = jsonLines(join(runsDir, 'exit-run', 'metrics.jsonl'));
    // metrics.jsonl keeps zerg's line shape: `event` names the kind.
    expect(lines.map((l) => l.event)).toEqual(['llm_call', 'tool_call']);
    expect(lines[0]).toMatchObject({ run_id: 'exit-run', prompt_tokens: 3, completion_tokens: 2 });
  });
});
