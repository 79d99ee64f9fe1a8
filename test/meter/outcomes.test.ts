import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { RunCancelledError, RunOutcomeError } from '../../src/meter/index.js';
import { PRICED_MODEL, codeError, harness, httpError, never, openAiResponse, sleep } from './fixtures.js';

describe('run outcomes', () => {
  it('ends a run whose function returns with success and hands back its value', async () => {
    const { meter } = harness();
    const result = await meter.runSettled({}, () => 42);
    expect(result).toMatchObject({ ok: true, value: 42 });
    expect(result.event).toMatchObject({ outcome: 'success', success: true, partial: false, error_type: null, limits_exceeded: [] });
  });

  it('ends with provider_error when an llmCall error escapes, and returns that very error', async () => {
    const { meter } = harness();
    const error = httpError(500);
    const result = await meter.runSettled({}, () => meter.llmCall({ model: PRICED_MODEL }, () => Promise.reject(error)));
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error).toBe(error);
    expect(result.event).toMatchObject({ outcome: 'provider_error', success: false, partial: false, error_type: 'server_error' });
  });

  it('ends with provider_error when the agent wraps the llmCall error in its own (cause)', async () => {
    const { meter } = harness();
    const original = codeError('ECONNRESET');
    const wrapped = new Error('agent gave up', { cause: new Error('step failed', { cause: original }) });
    const result = await meter.runSettled({}, async () => {
      try {
        await meter.llmCall({ model: PRICED_MODEL }, () => Promise.reject(original));
      } catch {
        throw wrapped;
      }
    });
    expect(!result.ok && result.error).toBe(wrapped);
    expect(result.event!.outcome).toBe('provider_error');
  });

  it('ends with invalid_request when a 400 escapes an llmCall', async () => {
    const { meter } = harness();
    const result = await meter.runSettled({}, () => meter.llmCall({ model: PRICED_MODEL }, () => Promise.reject(httpError(400))));
    expect(result.event).toMatchObject({ outcome: 'invalid_request', error_type: 'invalid_request' });
  });

  it('ends with provider_error when an llmCall rejects with a non-object', async () => {
    const { meter } = harness();
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
    const result = await meter.runSettled({}, () => meter.llmCall({ model: PRICED_MODEL }, () => Promise.reject('rate limited')));
    expect(!result.ok && result.error).toBe('rate limited');
    expect(result.event!.outcome).toBe('provider_error');
  });

  it('ends with tool_error when a toolCall error escapes, and records the failed tool call', async () => {
    const { meter, sink } = harness();
    const error = new SyntaxError('bad json from tool');
    const result = await meter.runSettled({}, () =>
      meter.toolCall('parse', () => {
        throw error;
      }),
    );
    expect(!result.ok && result.error).toBe(error);
    expect(result.event).toMatchObject({ outcome: 'tool_error', error_type: 'SyntaxError', tool_calls: 1 });
    expect(sink.ofKind('tool_call')[0]).toMatchObject({ tool: 'parse', success: false, error: 'bad json from tool' });
  });

  it('ends with tool_error when the agent code itself throws', async () => {
    const { meter } = harness();
    const result = await meter.runSettled({}, () => {
      throw new TypeError('undefined is not a function');
    });
    expect(result.event).toMatchObject({ outcome: 'tool_error', error_type: 'TypeError' });
  });

  it('records a successful tool call', async () => {
    const { meter, sink } = harness();
    const result = await meter.runSettled({}, () => meter.toolCall('search', () => Promise.resolve(['a', 'b'])));
    expect(result).toMatchObject({ ok: true, value: ['a', 'b'] });
    expect(sink.ofKind('tool_call')[0]).toMatchObject({ tool: 'search', success: true, error: null, step_id: null });
    expect(result.event!.tool_calls).toBe(1);
  });

  it('ends with verification_failed when RunOutcomeError is thrown', async () => {
    const { meter } = harness();
    const error = new RunOutcomeError('verification_failed', 'answer did not cite a source');
    const result = await meter.runSettled({}, () => {
      throw error;
    });
    expect(!result.ok && result.error).toBe(error);
    expect(result.event).toMatchObject({ outcome: 'verification_failed', success: false, partial: false });
  });

  it('ends with the outcome set by run.setOutcome while still returning the value', async () => {
    const { meter } = harness();
    const result = await meter.runSettled({}, (run) => {
      run.setOutcome('verification_failed', 'CitationMissing');
      return 'draft';
    });
    expect(result).toMatchObject({ ok: true, value: 'draft' });
    expect(result.event).toMatchObject({ outcome: 'verification_failed', success: false, error_type: 'CitationMissing' });
  });

  it('ignores and counts an outcome that is not one of the eight', async () => {
    const { meter } = harness();
    const result = await meter.runSettled({}, (run) => {
      run.setOutcome('kinda_ok' as never);
    });
    expect(result.event!.outcome).toBe('success');
    expect(Object.keys(meter.diagnostics().dropped_values)).toEqual(['outcome:unknown_name']);
  });

  it('ends with cancelled and partial=true when the signal aborts, aborting run.signal too', async () => {
    const { meter } = harness();
    const controller = new AbortController();
    let runSignal: AbortSignal | undefined;
    const pending = meter.runSettled({ signal: controller.signal }, async (run) => {
      runSignal = run.signal;
      await never();
    });
    await sleep(5);
    controller.abort('user pressed stop');
    const result = await pending;
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error).toBeInstanceOf(RunCancelledError);
    expect(!result.ok && (result.error as Error).cause).toBe('user pressed stop');
    expect(result.event).toMatchObject({ outcome: 'cancelled', partial: true, success: false });
    expect(runSignal!.aborted).toBe(true);
  });

  it('ends with cancelled when the signal was aborted before the run started', async () => {
    const { meter } = harness();
    const result = await meter.runSettled({ signal: AbortSignal.abort() }, () => 'too late');
    expect(result.event).toMatchObject({ outcome: 'cancelled', partial: true });
  });

  it('rejects llmCalls of a cancelled run without calling the provider', async () => {
    const { meter } = harness();
    const controller = new AbortController();
    let second: Promise<unknown> | undefined;
    let calls = 0;
    const result = await meter.runSettled({ signal: controller.signal }, async () => {
      controller.abort();
      second = meter.llmCall({ model: PRICED_MODEL }, () => {
        calls++;
        return openAiResponse(1, 1);
      });
      await second;
    });
    expect(result.event!.outcome).toBe('cancelled');
    await expect(second).rejects.toBeInstanceOf(RunCancelledError);
    expect(calls).toBe(0);
  });

  it('removes its abort listener from the caller signal when the run ends', async () => {
    const { meter } = harness();
    const controller = new AbortController();
    const during: number[] = [];
    await meter.runSettled({ signal: controller.signal }, () => {
      during.push(getEventListeners(controller.signal, 'abort').length);
    });
    await meter.runSettled({ signal: controller.signal }, () => {
      throw new Error('failing runs clean up too');
    });
    expect(during).toEqual([1]);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('never rejects, whatever the run function throws', async () => {
    const { meter } = harness();
    const thrown: unknown[] = [new Error('e'), 'string', 42, null, undefined, { weird: true }];
    for (const value of thrown) {
      const result = await meter.runSettled({}, () => {
        throw value;
      });
      expect(result.ok).toBe(false);
      expect(!result.ok && result.error).toBe(value);
      expect(result.event!.success).toBe(false);
    }
  });
});
