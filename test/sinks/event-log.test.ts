import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMeter } from '../../src/index.js';
import type { FlowEvent } from '../../src/index.js';
import { EventLogSink } from '../../src/sinks/index.js';

describe('EventLogSink (events.jsonl, the audit trail)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'flowmeter-events-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps every event of a run, whole and in order, one JSON object per line', async () => {
    const meter = createMeter({ runsDir: dir, log: false, env: {} });
    const result = await meter.runSettled({ runId: 'r1', flowId: 'f' }, async (run) => {
      await run.step('plan', { model: 'gpt-4o' }, () => run.llmCall({ model: 'gpt-4o', provider: 'openai' }, () => ({ usage: { prompt_tokens: 10, completion_tokens: 5 } })));
      run.retry('rate_limit', 0.25);
      await run.toolCall('search', () => 'ok');
    });
    await meter.close();
    const events = readFileSync(join(dir, 'r1', 'events.jsonl'), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as FlowEvent);
    expect(events.map((e) => e.kind)).toEqual(['run_started', 'step_started', 'llm_call', 'step_finished', 'retry', 'tool_call', 'run_finished']);
    const last = events.at(-1);
    expect(last?.kind === 'run_finished' && last.event).toEqual(result.event);
  });

  it('is not written when eventLog is false', async () => {
    const meter = createMeter({ runsDir: dir, eventLog: false, log: false, env: {} });
    await meter.runSettled({ runId: 'r2' }, () => undefined);
    await meter.close();
    expect(() => readFileSync(join(dir, 'r2', 'events.jsonl'))).toThrow(/ENOENT/);
    expect(readFileSync(join(dir, 'r2', 'metrics.jsonl'), 'utf8')).toBe('');
  });

  it('reports an unwritable folder to onError and does not throw', () => {
    const errors: unknown[] = [];
    // A regular file where the runs folder should be: mkdir fails with ENOTDIR.
    const blocker = join(dir, 'not-a-folder');
    writeFileSync(blocker, '');
    const sink = new EventLogSink({ runsDir: join(blocker, 'runs'), onError: (e) => errors.push(e) });
    const event: FlowEvent = { kind: 'run_started', ts: '2026-01-01T00:00:00.000Z', run: { run_id: 'x', flow_id: 'f', task_id: null, agent: 'a', exec_mode: 'live', branch: 'b', attributes: {} } };
    expect(() => sink.write([event])).not.toThrow();
    expect(errors.length).toBeGreaterThan(0);
    sink.close();
    sink.close();
  });
});
