import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { BudgetExceededError, MeterConfigError, createMeter } from '../../src/meter/index.js';
import { PRICED_MODEL, UNPRICED_MODEL, harness, nextMacrotask, openAiResponse } from '../meter/fixtures.js';

/**
 * Bugs found while writing the SDK's tests. Each test failed before its fix.
 * (STYLE.md 10 puts these in test/regression/; this suite was scoped to test/meter/.)
 */
describe('regressions', () => {
  it('ends a run whose signal was aborted before it started with cancelled, not success', async () => {
    // Both promises had settled before the race; the function's result was listed first and won.
    const { meter } = harness();
    const result = await meter.runSettled({ signal: AbortSignal.abort() }, () => 'ran anyway');
    expect(result.ok).toBe(false);
    expect(result.event).toMatchObject({ outcome: 'cancelled', partial: true });
  });

  it('ends a run that crosses its budget in synchronous code with budget_exceeded, not success', async () => {
    const { meter } = harness();
    const result = await meter.runSettled({ budget: { maxTokens: 10 } }, (run) => {
      run.tokensIn(PRICED_MODEL, 11);
      return 'done';
    });
    expect(!result.ok && result.error).toBeInstanceOf(BudgetExceededError);
    expect(result.event).toMatchObject({ outcome: 'budget_exceeded', partial: true, limits_exceeded: ['max_tokens'] });
  });

  it('enforces maxCostUsd when known spend passes it, even after a call of unknown cost', async () => {
    // Known spend is a lower bound of the real spend: above the limit, the limit is crossed.
    const { meter } = harness();
    const result = await meter.runSettled({ budget: { maxCostUsd: 5 } }, async () => {
      await meter.llmCall({ model: UNPRICED_MODEL }, () => openAiResponse(1, 1));
      await meter.llmCall({ model: PRICED_MODEL }, () => openAiResponse(10, 0));
      return 'spent $10+';
    });
    expect(result.event).toMatchObject({ outcome: 'budget_exceeded', limits_exceeded: ['max_cost_usd'], cost_usd: null });
  });

  it('lists every limit a single call crossed', async () => {
    const { meter } = harness();
    const result = await meter.runSettled({ budget: { maxTokens: 5, maxCostUsd: 5 } }, () => meter.llmCall({ model: PRICED_MODEL }, () => openAiResponse(10, 0)));
    expect(result.event!.limits_exceeded).toEqual(['max_tokens', 'max_cost_usd']);
    // The error names the first one.
    expect(!result.ok && result.error).toMatchObject({ limit: 'max_tokens' });
  });

  it('ends a flowStart run that crossed its budget with budget_exceeded even if flowEnd(true) says success', () => {
    const { meter } = harness();
    const run = meter.flowStart({ flowId: 'f', budget: { maxTokens: 10 } });
    run.tokensIn(PRICED_MODEL, 20);
    expect(run.signal.aborted).toBe(true);
    const event = run.flowEnd(true)!.event;
    expect(event).toMatchObject({ outcome: 'budget_exceeded', success: false, partial: true, limits_exceeded: ['max_tokens'], error_type: 'BudgetExceededError' });
  });

  it('keeps the ARX reason as error_type when a flow that crossed its budget ends with flowEnd(false, reason)', () => {
    const { meter } = harness();
    const run = meter.flowStart({ flowId: 'f', budget: { maxTokens: 10 } });
    run.tokensIn(PRICED_MODEL, 20);
    expect(run.flowEnd(false, 'BudgetError')!.event).toMatchObject({ outcome: 'budget_exceeded', error_type: 'BudgetError' });
  });

  it('does not emit step_started for a step timer opened after the run finished, nor count it in flight', async () => {
    const { meter, sink } = harness();
    const run = meter.flowStart('late_flow');
    run.flowEnd(true);
    const timer = run.stepTimer('too_late');
    expect(meter.inflightSteps().get('late_flow') ?? 0).toBe(0);
    timer.end();
    await nextMacrotask();
    expect(sink.events.map((e) => e.kind)).toEqual(['run_started', 'run_finished']);
    expect(meter.inflightSteps().get('late_flow') ?? 0).toBe(0);
    expect(meter.diagnostics().late_events).toBe(1);
  });

  it('validates the meter-wide budget at construction, not at the first run', () => {
    expect(() => createMeter({ runsDir: false, log: false, env: {}, budget: { maxTokens: -1 } })).toThrow(MeterConfigError);
  });

  it('rejects a timeoutMs too long for a Node.js timer instead of timing out after 1 ms', async () => {
    expect(() => createMeter({ runsDir: false, log: false, env: {}, budget: { timeoutMs: 2 ** 31 } })).toThrow(
      'budget.timeoutMs must be at most 2147483647 (about 24.8 days), got 2147483648; leave it out for no timeout',
    );
    const { meter } = harness();
    await expect(meter.runSettled({ budget: { timeoutMs: 30 * 24 * 3600 * 1000 } }, () => 'x')).rejects.toThrow(MeterConfigError);
    const longest = await meter.runSettled({ budget: { timeoutMs: 2 ** 31 - 1 } }, () => 'x');
    expect(longest.event!.outcome).toBe('success');
  });

  it('returns a rejected promise, not a synchronous throw, from a call made outside any run', async () => {
    for (const enabled of [true, false]) {
      const meter = createMeter({ enabled, runsDir: false, log: false, env: {} });
      const boom = new Error('provider down');
      const thrower = (): never => {
        throw boom;
      };
      let llm: Promise<unknown> | undefined;
      let tool: Promise<unknown> | undefined;
      let step: Promise<unknown> | undefined;
      expect(() => {
        llm = meter.llmCall({ model: PRICED_MODEL }, thrower);
        tool = meter.toolCall('t', thrower);
        step = meter.step('s', thrower);
      }).not.toThrow();
      await expect(llm).rejects.toBe(boom);
      await expect(tool).rejects.toBe(boom);
      await expect(step).rejects.toBe(boom);
      await meter.close();
    }
  });

  it('lets a meter that was never closed be garbage-collected (the exit hook holds it weakly)', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const refs = ((): WeakRef<object>[] => {
      const out: WeakRef<object>[] = [];
      for (let i = 0; i < 5; i++) out.push(new WeakRef(createMeter({ runsDir: false, log: false, env: {} })));
      return out;
    })();
    // WeakRef targets stay alive until the end of the current job.
    for (let attempt = 0; attempt < 10 && refs.some((r) => r.deref() !== undefined); attempt++) {
      await nextMacrotask();
      gc();
    }
    expect(refs.filter((r) => r.deref() !== undefined)).toHaveLength(0);
  });
});

describe('review findings, second round', () => {
  it('classifies fetch failures by their cause: TypeError("fetch failed") with ECONNRESET is a connection_error', async () => {
    const { errorType } = await import('../../src/meter/index.js');
    const fetchFailed = new TypeError('fetch failed', { cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }) });
    expect(errorType(fetchFailed)).toBe('connection_error');
    const sdkError = Object.assign(new Error('Connection error.'), { name: 'APIConnectionError' });
    expect(errorType(sdkError)).toBe('connection_error');
    expect(errorType(new TypeError('x is not a function'))).toBe('TypeError');
  });

  it('does not report an earlier handled failure as the error type of a verification failure', async () => {
    const { meter } = harness();
    const result = await meter.runSettled({}, async (run) => {
      await run.llmCall({ model: PRICED_MODEL }, () => Promise.reject(Object.assign(new Error('429'), { status: 429 }))).catch(() => undefined);
      run.setOutcome('verification_failed');
    });
    expect(result.event?.outcome).toBe('verification_failed');
    expect(result.event?.error_type).toBeNull();
  });

  it('keeps the meter-wide token cap when a run budget names the limit as undefined', async () => {
    const { meter } = harness({ budget: { maxTokens: 10 } });
    const result = await meter.runSettled({ budget: { maxTokens: undefined, maxCostUsd: 100 } }, async (run) => {
      await run.llmCall({ model: PRICED_MODEL }, () => openAiResponse(20, 5));
    });
    expect(result.event?.outcome).toBe('budget_exceeded');
    expect(result.event?.limits_exceeded).toEqual(['max_tokens']);
  });

  it('does not call the function of a run whose signal was aborted before it started', async () => {
    const { meter } = harness();
    let called = false;
    const result = await meter.runSettled({ signal: AbortSignal.abort() }, () => {
      called = true;
    });
    expect(called).toBe(false);
    expect(result.event?.outcome).toBe('cancelled');
  });

  it('ends a flowStart run that outlived its timeout as timeout', async () => {
    const { meter } = harness();
    const run = meter.flowStart({ budget: { timeoutMs: 5 } });
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(run.signal.aborted).toBe(true);
    expect(run.flowEnd(true)?.event.outcome).toBe('timeout');
  });

  it('records ARX tokens_in/tokens_out as events, so metrics.jsonl and logs see the RunEvent totals', async () => {
    const { meter, sink } = harness();
    const run = meter.flowStart('my_flow', 'CODER_AI', 'dry_run', 'main');
    run.tokensIn(PRICED_MODEL, 1500);
    run.tokensOut(PRICED_MODEL, 800);
    const finish = run.flowEnd(true)!;
    await meter.flush();
    const tokens = sink.ofKind('tokens');
    expect(tokens.map((t) => [t.direction, t.count])).toEqual([['in', 1500], ['out', 800]]);
    expect(tokens.reduce((s, t) => s + t.count, 0)).toBe(finish.event.total_tokens);
    expect(tokens.reduce((s, t) => s + (t.cost_usd ?? 0), 0)).toBeCloseTo(finish.event.cost_usd!, 9);
  });

  it('behaves like a disabled meter after close: the function runs, nothing is recorded', async () => {
    const { meter, sink } = harness();
    await meter.close();
    const result = await meter.runSettled({}, () => 7);
    expect(result).toMatchObject({ ok: true, value: 7 });
    expect(result.event).toBeUndefined();
    expect(sink.events).toHaveLength(0);
  });
});

describe('steps still open when the run ends', () => {
  it('are closed as failed with run_ended, so in-flight counts built from events return to zero', async () => {
    const { meter, sink } = harness();
    const result = await meter.runSettled({ flowId: 'f', budget: { timeoutMs: 20 } }, async (run) => {
      await run.step('slow', () => new Promise((resolve) => setTimeout(resolve, 200)));
    });
    expect(result.event?.outcome).toBe('timeout');
    await meter.flush();
    const kinds = sink.events.map((e) => e.kind);
    expect(kinds.filter((k) => k === 'step_started')).toHaveLength(1);
    expect(kinds.filter((k) => k === 'step_finished')).toHaveLength(1);
    // The step closes before the run does.
    expect(kinds.indexOf('step_finished')).toBeLessThan(kinds.indexOf('run_finished'));
    expect(sink.ofKind('step_finished')[0]).toMatchObject({ success: false, error: 'run_ended' });
    expect(meter.inflightSteps().get('f')).toBe(0);
  });
});
