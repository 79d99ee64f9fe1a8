import { describe, expect, it } from 'vitest';
import type { Usage } from '../../src/meter/index.js';
import type { FlowEvent } from '../../src/model/index.js';
import { InMemorySink } from '../../src/sinks/index.js';
import type { Sink } from '../../src/sinks/index.js';
import { PRICED_MODEL, harness, never, nextMacrotask, openAiResponse, sleep } from './fixtures.js';

describe('bad measurements', () => {
  it.each([
    ['NaN', Number.NaN, 'nan'],
    ['negative', -5, 'negative'],
    ['Infinity', Number.POSITIVE_INFINITY, 'infinite'],
    ['a string', '12', 'not_a_number'],
  ])('drops an invalid token count (%s), counts it, and lets the run go on', async (_label, bad, reason) => {
    const { meter, sink, warnings } = harness();
    const result = await meter.runSettled({}, async () => {
      const response = await meter.llmCall({ model: PRICED_MODEL }, (call) => {
        call.usage({ inputTokens: bad as number, outputTokens: 5 });
        return 'answer';
      });
      return response;
    });
    expect(result).toMatchObject({ ok: true, value: 'answer' });
    expect(sink.ofKind('llm_call')[0]).toMatchObject({ input_tokens: null, output_tokens: 5, cost_usd: null });
    // One side unknown: the run's token totals are unknown, not understated.
    expect(result.event).toMatchObject({ outcome: 'success', input_tokens: null, total_tokens: null });
    expect(meter.diagnostics().dropped_values).toEqual({ [`input_tokens:${reason}`]: 1 });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.code).toBe('FLOWMETER_DROPPED_VALUE');
    expect(warnings[0]!.message).toContain('input_tokens');
  });

  it('drops a bad provider cost and falls back to the price table', async () => {
    const { meter, sink } = harness();
    await meter.runSettled({}, () => meter.llmCall({ model: PRICED_MODEL }, (call) => call.usage({ inputTokens: 1, outputTokens: 1, costUsd: -0.5 })));
    expect(sink.ofKind('llm_call')[0]).toMatchObject({ cost_usd: 3, cost_source: 'price_table' });
    expect(meter.diagnostics().dropped_values).toEqual({ 'cost_usd:negative': 1 });
  });

  it('drops bad values from a custom extractor the same way', async () => {
    const { meter, sink } = harness();
    const weird = (): Usage => ({ inputTokens: 3, outputTokens: Number.NaN, totalTokens: -1 });
    await meter.runSettled({}, () => meter.llmCall({ model: PRICED_MODEL, usage: weird }, () => 'x'));
    expect(sink.ofKind('llm_call')[0]).toMatchObject({ input_tokens: 3, output_tokens: null, total_tokens: null });
    expect(meter.diagnostics().dropped_values).toEqual({ 'output_tokens:nan': 1, 'total_tokens:negative': 1 });
  });

  it('warns once per kind of bad value, even for 1,000 of them, and counts every one', async () => {
    const { meter, warnings } = harness();
    const result = await meter.runSettled({}, async (run) => {
      for (let i = 0; i < 1000; i++) {
        await meter.llmCall({ model: PRICED_MODEL }, (call) => call.usage({ inputTokens: -1, outputTokens: 1 }));
        await meter.llmCall({ model: PRICED_MODEL }, (call) => call.usage({ inputTokens: 1, outputTokens: Number.NaN }));
        run.tokensIn(PRICED_MODEL, Number.POSITIVE_INFINITY);
      }
      return 'done';
    });
    expect(result).toMatchObject({ ok: true, value: 'done' });
    expect(result.event!.llm_calls).toBe(2000);
    expect(meter.diagnostics().dropped_values).toEqual({ 'input_tokens:negative': 1000, 'output_tokens:nan': 1000, 'tokens_in:infinite': 1000 });
    expect(warnings).toHaveLength(3);
    expect(new Set(warnings.map((w) => w.code))).toEqual(new Set(['FLOWMETER_DROPPED_VALUE']));
  });

  it('survives a warning handler that throws', async () => {
    const { meter } = harness({
      onWarning: () => {
        throw new Error('logger down');
      },
    });
    const result = await meter.runSettled({}, (run) => {
      run.tokensOut(PRICED_MODEL, -1);
      return 'fine';
    });
    expect(result).toMatchObject({ ok: true, value: 'fine' });
    expect(meter.diagnostics().dropped_values).toEqual({ 'tokens_out:negative': 1 });
  });
});

describe('usage extractor failures', () => {
  it('records the call with unknown usage when a custom extractor throws, and counts an internal error', async () => {
    const { meter, sink, warnings } = harness();
    const response = { text: 'the answer' };
    const result = await meter.runSettled({}, () =>
      meter.llmCall(
        {
          model: PRICED_MODEL,
          usage: () => {
            throw new Error('extractor bug');
          },
        },
        () => response,
      ),
    );
    expect(result).toMatchObject({ ok: true });
    expect(result.ok && result.value).toBe(response);
    expect(sink.ofKind('llm_call')[0]).toMatchObject({ input_tokens: null, output_tokens: null, cost_usd: null, error_type: null });
    expect(result.event!.llm_calls).toBe(1);
    expect(meter.diagnostics().internal_errors).toBe(1);
    expect(warnings.map((w) => w.code)).toEqual(['FLOWMETER_INTERNAL_ERROR']);
    expect(warnings[0]!.message).toContain('extractor bug');
  });
});

class ThrowingSink implements Sink {
  readonly name = 'throwing';
  write(): void {
    throw new Error('disk full');
  }
}

class RejectingSink implements Sink {
  readonly name = 'rejecting';
  write(): Promise<void> {
    return Promise.reject(new Error('HTTP 503 from collector'));
  }
}

class HangingSink implements Sink {
  readonly name = 'hanging';
  writes = 0;
  write(): Promise<void> {
    this.writes++;
    return never();
  }
}

describe('failing sinks', () => {
  it('lets the run succeed and every other sink get every event when sinks throw, reject or hang', async () => {
    const after = new InMemorySink();
    const hanging = new HangingSink();
    const { meter, sink, warnings } = harness({ sinks: [new ThrowingSink(), new RejectingSink(), hanging, after], flushTimeoutMs: 50 });
    const result = await meter.runSettled({ runId: 'r1' }, async () => {
      await meter.llmCall({ model: PRICED_MODEL }, () => openAiResponse(1, 1));
      await nextMacrotask();
      await meter.toolCall('search', () => 'ok');
      return 'value';
    });
    expect(result).toMatchObject({ ok: true, value: 'value' });
    const kinds = (events: FlowEvent[]) => events.map((e) => e.kind);
    const expected = ['run_started', 'llm_call', 'tool_call', 'run_finished'];
    expect(kinds(sink.events)).toEqual(expected);
    expect(kinds(after.events)).toEqual(expected);

    await meter.flush();
    const errors = meter.diagnostics().sink_errors;
    // One count per batch handed to the sink; the batches depend on scheduling, so at least one.
    expect(errors.throwing).toBeGreaterThanOrEqual(1);
    expect(errors.rejecting).toBe(errors.throwing);
    // The hung sink is reported when a flush gives up waiting for it.
    expect(errors.hanging).toBeGreaterThanOrEqual(1);
    expect(errors.memory).toBeUndefined();
    expect(hanging.writes).toBe(errors.throwing);
    expect(warnings.filter((w) => w.code === 'FLOWMETER_SINK_ERROR').map((w) => w.message.match(/sink "(\w+)"/)?.[1]).sort()).toEqual([
      'hanging',
      'rejecting',
      'throwing',
    ]);
    await meter.close();
  });

  it('stops handing batches to a sink that never settles, and counts what it could not take', async () => {
    const hanging = new HangingSink();
    const { meter, sink } = harness({ sinks: [hanging], flushTimeoutMs: 20 });
    for (let i = 0; i < 80; i++) await meter.runSettled({}, () => meter.toolCall('t', () => i));
    expect(sink.ofKind('run_finished')).toHaveLength(80);
    // At most 64 unsettled batches are held; every batch past that is counted.
    expect(hanging.writes).toBe(64);
    expect(meter.diagnostics().sink_errors.hanging).toBeGreaterThanOrEqual(80 - 64);
  });

  it('resolves flush() and close() within flushTimeoutMs even with a hung sink', async () => {
    const { meter } = harness({ sinks: [new HangingSink()], flushTimeoutMs: 30 });
    await meter.runSettled({}, () => 1);
    const started = Date.now();
    await meter.flush();
    await meter.close();
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('counts a sink whose flush or close throws', async () => {
    const flaky: Sink = {
      name: 'flaky',
      write: () => undefined,
      flush: () => Promise.reject(new Error('flush failed')),
      close: () => {
        throw new Error('close failed');
      },
    };
    const { meter } = harness({ sinks: [flaky] });
    await meter.runSettled({}, () => 1);
    await meter.close();
    expect(meter.diagnostics().sink_errors.flaky).toBe(2);
  });
});

describe('the bounded audit queue', () => {
  it('drops and counts events past queueCapacity instead of growing', async () => {
    const batches: number[] = [];
    const counting: Sink = { name: 'counting', write: (events) => void batches.push(events.length) };
    const { meter, sink, warnings } = harness({ queueCapacity: 10, sinks: [counting] });
    // 50 tool calls recorded in one tick: the queue is not drained in between.
    const result = await meter.runSettled({}, () => Promise.all(Array.from({ length: 50 }, (_, i) => meter.toolCall('t', () => i))));
    expect(result.ok).toBe(true);
    const dropped = meter.diagnostics().dropped_events;
    expect(dropped).toBeGreaterThan(0);
    // Every event is either delivered or counted: 1 run_started + 50 tool_call + 1 run_finished.
    expect(sink.events.length + dropped).toBe(52);
    expect(Math.max(...batches)).toBeLessThanOrEqual(10);
    expect(result.event!.tool_calls).toBe(50);
    // The run's own summary event is never the one crowded out.
    expect(sink.events.at(-1)!.kind).toBe('run_finished');
    expect(warnings.filter((w) => w.code === 'FLOWMETER_QUEUE_FULL')).toHaveLength(1);
  });

  it('delivers events of one run in the order they happened', async () => {
    const { meter, sink } = harness();
    await meter.runSettled({}, async (run) => {
      await run.step('a', async () => {
        await sleep(1);
        await meter.llmCall({ model: PRICED_MODEL }, () => openAiResponse(1, 1));
      });
      run.retry('rate_limit');
      await meter.toolCall('t', () => 1);
    });
    expect(sink.events.map((e) => e.kind)).toEqual(['run_started', 'step_started', 'llm_call', 'step_finished', 'retry', 'tool_call', 'run_finished']);
  });
});
