import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BudgetExceededError, createMeter } from '../../src/meter/index.js';
import type { Run, RunFinish } from '../../src/meter/index.js';
import { PRICED_MODEL, harness, openAiResponse } from './fixtures.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

class TicketError extends Error {
  override readonly name = 'TicketError';
  readonly ticket = 'T-7';
}

describe('meter.run is transparent', () => {
  it("resolves to what the function returns, and the run's record is on run.finished", async () => {
    const { meter, sink } = harness();
    let handle: Run | undefined;
    const value = await meter.run({ flowId: 'answer' }, async (run) => {
      handle = run;
      expect(run.finished).toBeUndefined();
      await run.llmCall({ provider: 'openai', model: PRICED_MODEL }, () => openAiResponse(100, 20));
      return { answer: 42 };
    });
    expect(value).toEqual({ answer: 42 });
    expect(handle!.finished!.event).toMatchObject({ flow_id: 'answer', outcome: 'success', input_tokens: 100, output_tokens: 20 });
    expect(handle!.finished!.summary).toMatch(/^Execution time: /);
    expect(sink.ofKind('run_finished')).toHaveLength(1);
  });

  it('rejects with exactly the error the function threw, and still records the failed run', async () => {
    const ends: RunFinish[] = [];
    const { meter } = harness({ onRunEnd: (end) => ends.push(end) });
    const thrown = new TicketError('no such ticket');
    const caught = await meter.run({ flowId: 'lookup' }, () => {
      throw thrown;
    }).catch((err: unknown) => err);
    expect(caught).toBe(thrown);
    expect(ends).toHaveLength(1);
    expect(ends[0]!.event).toMatchObject({ flow_id: 'lookup', success: false, error_type: 'TicketError' });
  });

  it('rejects with a non-Error value unchanged', async () => {
    const { meter } = harness();
    const reason = { code: 7 };
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the point: a non-Error reason comes back unchanged
    await expect(meter.run({}, () => Promise.reject(reason))).rejects.toBe(reason);
  });

  it('rejects with BudgetExceededError when a budget stops the run', async () => {
    const { meter } = harness();
    const err = await meter
      .run({ budget: { maxTokens: 50 } }, async (run) => {
        await run.llmCall({ provider: 'openai', model: PRICED_MODEL }, () => openAiResponse(100, 20));
        return 'never';
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BudgetExceededError);
  });

  it('is transparent with metrics off too', async () => {
    const meter = createMeter({ enabled: false });
    const thrown = new Error('boom');
    await expect(meter.run({}, () => 5)).resolves.toBe(5);
    await expect(meter.run({}, () => Promise.reject(thrown))).rejects.toBe(thrown);
  });
});

describe('meter.runSettled keeps the record form', () => {
  it('resolves to { ok, value | error, event, summary } and never rejects for the run’s error', async () => {
    const { meter } = harness();
    const ok = await meter.runSettled({ flowId: 'a' }, () => 'done');
    expect(ok).toMatchObject({ ok: true, value: 'done', event: { outcome: 'success' } });
    const thrown = new Error('nope');
    const failed = await meter.runSettled({ flowId: 'b' }, () => Promise.reject(thrown));
    expect(failed.ok).toBe(false);
    expect(failed.ok ? undefined : failed.error).toBe(thrown);
    expect(failed.summary).toMatch(/outcome: /);
  });
});

describe('onRunEnd', () => {
  it('calls every listener once per run, until removed; a listener that throws is counted and the run goes on', async () => {
    const { meter } = harness();
    const seen: string[] = [];
    const off = meter.onRunEnd((end) => seen.push(end.event.flow_id));
    meter.onRunEnd(() => {
      throw new Error('listener bug');
    });
    await meter.run({ flowId: 'one' }, () => 1);
    off();
    await expect(meter.run({ flowId: 'two' }, () => 2)).resolves.toBe(2);
    expect(seen).toEqual(['one']);
    expect(meter.diagnostics().internal_errors).toBe(2);
  });
});

describe('log.destination', () => {
  it('takes a plain file path, as pino does', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flowmeter-log-path-'));
    dirs.push(dir);
    const path = join(dir, 'logs', 'flowmeter.log');
    const meter = createMeter({ runsDir: false, store: false, env: {}, log: { format: 'json', destination: path } });
    await meter.run({ flowId: 'logged' }, () => 'x');
    await meter.close();
    const lines = readFileSync(path, 'utf8').trim().split('\n');
    expect(lines.some((l) => l.includes('"logged"'))).toBe(true);
  });
});
