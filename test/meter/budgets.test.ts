import { afterEach, describe, expect, it, vi } from 'vitest';
import { BudgetExceededError, RunTimeoutError } from '../../src/meter/index.js';
import type { LlmCallContext, Run } from '../../src/meter/index.js';
import { PRICED_MODEL, harness, never, openAiResponse } from './fixtures.js';

afterEach(() => {
  vi.useRealTimers();
});

/** Runs `body` as the run function and also hands back a promise for the whole body, which may outlive the run. */
function spy<T>(body: (run: Run) => Promise<T>): { fn: (run: Run) => Promise<T>; done: () => Promise<unknown> } {
  let whole: Promise<T> | undefined;
  return {
    fn: (run) => {
      whole = body(run);
      return whole;
    },
    done: () => (whole ?? Promise.resolve()).catch((err: unknown) => err),
  };
}

describe('token budget', () => {
  it('ends the run with budget_exceeded, partial and max_tokens once total tokens pass maxTokens', async () => {
    const { meter } = harness();
    const provider = vi.fn(() => openAiResponse(1, 1));
    let third: unknown;
    let runSignal: AbortSignal | undefined;
    let callSignal: AbortSignal | undefined;
    const body = spy(async (run) => {
      runSignal = run.signal;
      await meter.llmCall({ model: PRICED_MODEL }, () => openAiResponse(50, 10));
      await meter.llmCall({ model: PRICED_MODEL }, (call: LlmCallContext) => {
        callSignal = call.signal;
        return openAiResponse(50, 10);
      });
      try {
        await meter.llmCall({ model: PRICED_MODEL }, provider);
      } catch (err) {
        third = err;
      }
      return 'finished anyway';
    });
    const result = await meter.runSettled({ budget: { maxTokens: 100 } }, body.fn);
    await body.done();

    expect(result.ok).toBe(false);
    const error = !result.ok ? result.error : undefined;
    expect(error).toBeInstanceOf(BudgetExceededError);
    expect(error).toMatchObject({ limit: 'max_tokens', used: 120, allowed: 100 });
    expect(result.event).toMatchObject({
      outcome: 'budget_exceeded',
      success: false,
      partial: true,
      limits_exceeded: ['max_tokens'],
      total_tokens: 120,
      llm_calls: 2,
      error_type: 'BudgetExceededError',
    });
    // The next call is refused without reaching the provider.
    expect(third).toBe(error);
    expect(provider).not.toHaveBeenCalled();
    expect(runSignal!.aborted).toBe(true);
    expect(runSignal!.reason).toBe(error);
    expect(callSignal!.aborted).toBe(true);
  });

  it('allows spending exactly the budget', async () => {
    const { meter } = harness();
    const result = await meter.runSettled({ budget: { maxTokens: 100 } }, () => meter.llmCall({ model: PRICED_MODEL }, () => openAiResponse(90, 10)));
    expect(result.event).toMatchObject({ outcome: 'success', limits_exceeded: [], total_tokens: 100 });
  });

  it('applies the meter-wide budget to every run, and a run budget overrides it field by field', async () => {
    const { meter } = harness({ budget: { maxTokens: 10, maxCostUsd: 1_000 } });
    const capped = await meter.runSettled({}, () => meter.llmCall({ model: PRICED_MODEL }, () => openAiResponse(20, 0)));
    const raised = await meter.runSettled({ budget: { maxTokens: 50 } }, () => meter.llmCall({ model: PRICED_MODEL }, () => openAiResponse(20, 0)));
    const costCapped = await meter.runSettled({ budget: { maxTokens: 5_000 } }, () => meter.llmCall({ model: PRICED_MODEL }, () => openAiResponse(2_000, 0)));
    expect(capped.event!.limits_exceeded).toEqual(['max_tokens']);
    expect(raised.event!.outcome).toBe('success');
    expect(costCapped.event!.limits_exceeded).toEqual(['max_cost_usd']);
  });

  it('counts ARX tokensIn/tokensOut against the token budget', async () => {
    const { meter } = harness();
    const result = await meter.runSettled({ budget: { maxTokens: 10 } }, async (run) => {
      run.tokensIn(PRICED_MODEL, 6);
      await Promise.resolve();
      run.tokensOut(PRICED_MODEL, 6);
      await never();
    });
    expect(result.event).toMatchObject({ outcome: 'budget_exceeded', limits_exceeded: ['max_tokens'], total_tokens: 12 });
  });
});

describe('cost budget', () => {
  it('ends the run with budget_exceeded and max_cost_usd once cost passes maxCostUsd', async () => {
    const { meter } = harness();
    const result = await meter.runSettled({ budget: { maxCostUsd: 10 } }, async () => {
      await meter.llmCall({ model: PRICED_MODEL }, () => openAiResponse(4, 0));
      await meter.llmCall({ model: PRICED_MODEL }, () => openAiResponse(5, 1));
      await never();
    });
    expect(!result.ok && result.error).toMatchObject({ limit: 'max_cost_usd', used: 11, allowed: 10 });
    expect(result.event).toMatchObject({ outcome: 'budget_exceeded', partial: true, limits_exceeded: ['max_cost_usd'], cost_usd: 11 });
  });

  it('uses a provider-reported cost for the budget', async () => {
    const { meter } = harness();
    const result = await meter.runSettled({ budget: { maxCostUsd: 0.01 } }, async () => {
      await meter.llmCall({ model: PRICED_MODEL }, () => openAiResponse(1, 1, { cost: 0.02 }));
      await never();
    });
    expect(result.event!.limits_exceeded).toEqual(['max_cost_usd']);
  });
});

describe('timeout', () => {
  it('ends the run with timeout, partial and max_seconds, and resolves even though the function never settles', async () => {
    const { meter } = harness();
    let runSignal: AbortSignal | undefined;
    const result = await meter.runSettled({ budget: { timeoutMs: 20 } }, async (run) => {
      runSignal = run.signal;
      await never();
    });
    expect(!result.ok && result.error).toBeInstanceOf(RunTimeoutError);
    expect(result.event).toMatchObject({ outcome: 'timeout', success: false, partial: true, limits_exceeded: ['max_seconds'], error_type: 'RunTimeoutError' });
    expect(runSignal!.aborted).toBe(true);
    // Generous: the run ended at its deadline, not at some later event.
    expect(result.event!.elapsed_seconds).toBeGreaterThanOrEqual(0.015);
    expect(result.event!.elapsed_seconds).toBeLessThan(10);
  });

  it('fires exactly at timeoutMs on the timer clock', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { meter } = harness();
    let settled = false;
    const pending = meter.runSettled({ budget: { timeoutMs: 60_000 } }, () => never()).then((r) => {
      settled = true;
      return r;
    });
    await vi.advanceTimersByTimeAsync(59_999);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(settled).toBe(true);
    expect((await pending).event!.outcome).toBe('timeout');
  });

  it('refuses llmCalls made after the deadline', async () => {
    const { meter } = harness();
    const provider = vi.fn(() => openAiResponse(1, 1));
    let late: Promise<unknown> | undefined;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const result = await meter.runSettled({ budget: { timeoutMs: 10 } }, async () => {
      await gate;
      late = meter.llmCall({ model: PRICED_MODEL }, provider);
      await late;
    });
    release();
    await vi.waitFor(() => expect(late).toBeDefined());
    await expect(late).rejects.toBeInstanceOf(RunTimeoutError);
    expect(provider).not.toHaveBeenCalled();
    expect(result.event!.outcome).toBe('timeout');
  });

  it('returns the result of a call still in flight at the deadline, and counts it as late', async () => {
    const { meter, sink } = harness();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let inFlight: Promise<unknown> | undefined;
    let callSignal: AbortSignal | undefined;
    const result = await meter.runSettled({ budget: { timeoutMs: 10 } }, async () => {
      inFlight = meter.llmCall({ model: PRICED_MODEL }, async (call) => {
        callSignal = call.signal;
        await gate;
        return openAiResponse(5, 5);
      });
      await inFlight;
    });
    expect(result.event!.outcome).toBe('timeout');
    // The provider call was told to stop (pass call.signal to fetch).
    expect(callSignal!.aborted).toBe(true);
    release();
    await expect(inFlight).resolves.toMatchObject({ usage: { prompt_tokens: 5 } });
    expect(meter.diagnostics().late_events).toBe(1);
    expect(result.event!.llm_calls).toBe(0);
    expect(sink.ofKind('llm_call')).toHaveLength(0);
  });

  it('does not keep a finished run timer alive', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { meter } = harness();
    await meter.runSettled({ budget: { timeoutMs: 60_000 } }, () => 'quick');
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('budget_exceeded_during_retry', () => {
  it('is true only for a run that hit a limit and retried, and its snapshot rate is over all runs', async () => {
    const { meter } = harness();
    const hitAndRetried = await meter.runSettled({ budget: { maxTokens: 10 } }, async () => {
      meter.retry('rate_limit', 1);
      await meter.llmCall({ model: PRICED_MODEL }, () => openAiResponse(20, 0));
    });
    const hitOnly = await meter.runSettled({ budget: { maxTokens: 10 } }, () => meter.llmCall({ model: PRICED_MODEL }, () => openAiResponse(20, 0)));
    const retriedOnly = await meter.runSettled({ budget: { maxTokens: 10 } }, async () => {
      meter.retry('server_error');
      await meter.llmCall({ model: PRICED_MODEL }, () => openAiResponse(5, 0));
    });
    const timedOutRetrying = await meter.runSettled({ budget: { timeoutMs: 10 } }, async () => {
      meter.retry('timeout', 0.5);
      await never();
    });
    expect(hitAndRetried.event).toMatchObject({ outcome: 'budget_exceeded', retries: 1, budget_exceeded_during_retry: true });
    expect(hitOnly.event).toMatchObject({ outcome: 'budget_exceeded', retries: 0, budget_exceeded_during_retry: false });
    expect(retriedOnly.event).toMatchObject({ outcome: 'success', retries: 1, budget_exceeded_during_retry: false });
    expect(timedOutRetrying.event).toMatchObject({ outcome: 'timeout', budget_exceeded_during_retry: true });

    const snap = meter.snapshot();
    expect(snap.total_runs).toBe(4);
    expect(snap.budget_exceeded_during_retry).toBe(2);
    expect(snap.budget_exceeded_during_retry_rate).toBe(0.5);
  });
});
