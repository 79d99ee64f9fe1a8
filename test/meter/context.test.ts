import { describe, expect, it } from 'vitest';
import type { LlmCall, RunEvent } from '../../src/model/index.js';
import { mulberry32 } from '../stats/fixtures.js';
import { PRICED_MODEL, harness, openAiResponse, sleep } from './fixtures.js';


describe('run context', () => {
  it('attributes meter.llmCall made inside setTimeout, Promise.all and nested functions to the enclosing run', async () => {
    const { meter, sink } = harness();
    const call = (n: number) => meter.llmCall({ model: PRICED_MODEL }, () => openAiResponse(n, 1));
    async function deep(n: number): Promise<void> {
      await sleep(1);
      await call(n);
    }
    const result = await meter.runSettled({ runId: 'outer' }, async () => {
      await new Promise<void>((resolve, reject) => {
        setTimeout(() => {
          call(1).then(() => resolve(), reject);
        }, 1);
      });
      await Promise.all([call(2), deep(3), (async () => deep(4))()]);
    });
    expect(result.ok).toBe(true);
    const calls = sink.ofKind('llm_call');
    expect(calls.map((c) => c.input_tokens).sort()).toEqual([1, 2, 3, 4]);
    expect(calls.every((c) => c.run_id === 'outer')).toBe(true);
    expect(result.event!.llm_calls).toBe(4);
    expect(result.event!.input_tokens).toBe(10);
    expect(meter.diagnostics().unattributed_calls).toBe(0);
  });

  it('exposes the enclosing run as meter.current() and nothing outside a run', async () => {
    const { meter } = harness();
    expect(meter.current()).toBeUndefined();
    let seen: string | undefined;
    await meter.runSettled({ runId: 'r-current' }, async (run) => {
      await sleep(1);
      seen = meter.current()?.id;
      expect(meter.current()).toBe(run);
    });
    expect(seen).toBe('r-current');
    expect(meter.current()).toBeUndefined();
  });

  it('keeps 1,000 concurrent runs with random interleaving apart, with totals that match each RunEvent exactly', async () => {
    const { meter, sink } = harness();
    const random = mulberry32(42);
    const RUNS = 1000;
    const plans = Array.from({ length: RUNS }, (_, i) => ({
      runId: `run-${i}`,
      calls: Array.from({ length: 1 + Math.floor(random() * 4) }, () => ({
        input: 1 + Math.floor(random() * 1000),
        output: 1 + Math.floor(random() * 100),
        delay: Math.floor(random() * 5),
      })),
    }));

    const results = await Promise.all(
      plans.map((plan) =>
        meter.runSettled({ runId: plan.runId }, async () => {
          // Half the calls run in parallel, half in sequence, each after a random delay.
          await Promise.all(
            plan.calls.map(async (c, j) => {
              if (j % 2 === 0) await sleep(c.delay);
              else await Promise.resolve();
              return meter.llmCall({ model: PRICED_MODEL }, async () => {
                await sleep(c.delay);
                return openAiResponse(c.input, c.output);
              });
            }),
          );
          return plan.runId;
        }),
      ),
    );

    const callsByRun = new Map<string, LlmCall[]>();
    for (const c of sink.ofKind('llm_call')) callsByRun.set(c.run_id, [...(callsByRun.get(c.run_id) ?? []), c]);
    const eventsByRun = new Map<string, RunEvent>(sink.ofKind('run_finished').map((f) => [f.event.run_id, f.event]));

    expect(eventsByRun.size).toBe(RUNS);
    for (const [i, plan] of plans.entries()) {
      const result = results[i]!;
      expect(result.ok && result.value).toBe(plan.runId);
      const event = result.event!;
      expect(event.run_id).toBe(plan.runId);
      expect(eventsByRun.get(plan.runId)).toEqual(event);
      const calls = callsByRun.get(plan.runId) ?? [];
      const expectedIn = plan.calls.reduce((s, c) => s + c.input, 0);
      const expectedOut = plan.calls.reduce((s, c) => s + c.output, 0);
      expect(calls.length).toBe(plan.calls.length);
      expect(calls.map((c) => c.input_tokens).sort()).toEqual(plan.calls.map((c) => c.input).sort());
      expect(event.llm_calls).toBe(plan.calls.length);
      expect(event.input_tokens).toBe(expectedIn);
      expect(event.output_tokens).toBe(expectedOut);
      expect(event.total_tokens).toBe(expectedIn + expectedOut);
      expect(calls.reduce((s, c) => s + c.total_tokens!, 0)).toBe(event.total_tokens);
      // $1 per input token, $2 per output token.
      expect(event.cost_usd).toBeCloseTo(expectedIn + 2 * expectedOut, 6);
    }
    expect(meter.diagnostics()).toMatchObject({ unattributed_calls: 0, late_events: 0, dropped_events: 0, internal_errors: 0 });
    expect(meter.snapshot().total_runs).toBe(RUNS);
  });

  it('attributes calls inside meter.step to that step, and calls after it to no step', async () => {
    const { meter, sink } = harness();
    await meter.runSettled({}, async () => {
      await meter.step('plan', async () => {
        await sleep(1);
        await meter.llmCall({ model: PRICED_MODEL, phase: 'initial' }, () => openAiResponse(1, 1));
        await meter.toolCall('search', () => 'hits');
        meter.retry('rate_limit');
      });
      await meter.llmCall({ model: PRICED_MODEL, phase: 'after' }, () => openAiResponse(1, 1));
    });
    const [inStep, after] = sink.ofKind('llm_call');
    expect(inStep!.step_id).toBe('plan');
    expect(after!.step_id).toBeNull();
    expect(sink.ofKind('tool_call')[0]!.step_id).toBe('plan');
    expect(sink.ofKind('retry')[0]!.step_id).toBe('plan');
  });

  it('gives calls in a nested step the inner step id, and restores the outer one after it', async () => {
    const { meter, sink } = harness();
    await meter.runSettled({}, async (run) => {
      await run.step('outer', async () => {
        await meter.llmCall({ model: PRICED_MODEL, phase: 'a' }, () => openAiResponse(1, 1));
        await run.step('inner', { model: PRICED_MODEL }, async () => {
          await sleep(1);
          await meter.llmCall({ model: PRICED_MODEL, phase: 'b' }, () => openAiResponse(1, 1));
        });
        await meter.llmCall({ model: PRICED_MODEL, phase: 'c' }, () => openAiResponse(1, 1));
      });
    });
    expect(sink.ofKind('llm_call').map((c) => [c.phase, c.step_id])).toEqual([
      ['a', 'outer'],
      ['b', 'inner'],
      ['c', 'outer'],
    ]);
    const finished = sink.ofKind('step_finished');
    expect(finished.map((s) => s.step_id)).toEqual(['inner', 'outer']);
    expect(finished[0]!.model).toBe(PRICED_MODEL);
    expect(finished.every((s) => s.success)).toBe(true);
  });

  it('keeps parallel steps of one run apart', async () => {
    const { meter, sink } = harness();
    await meter.runSettled({}, async () => {
      await Promise.all(
        ['a', 'b', 'c'].map((id, i) =>
          meter.step(id, async () => {
            await sleep(3 - i);
            await meter.llmCall({ model: PRICED_MODEL, phase: id }, () => openAiResponse(1, 1));
          }),
        ),
      );
    });
    for (const c of sink.ofKind('llm_call')) expect(c.step_id).toBe(c.phase);
  });

  it('lets an explicit stepId on llmCall win over the current step', async () => {
    const { meter, sink } = harness();
    await meter.runSettled({}, (run) => run.step('plan', () => run.llmCall({ model: PRICED_MODEL, stepId: 'override' }, () => openAiResponse(1, 1))));
    expect(sink.ofKind('llm_call')[0]!.step_id).toBe('override');
  });

  it('records a failing step with the error class and rethrows the error', async () => {
    const { meter, sink } = harness();
    const boom = new RangeError('bad');
    const result = await meter.runSettled({}, (run) =>
      run.step('s', () => {
        throw boom;
      }),
    );
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error).toBe(boom);
    expect(sink.ofKind('step_finished')[0]).toMatchObject({ step_id: 's', success: false, error: 'RangeError' });
  });

  it('attributes calls to the innermost of two nested runs', async () => {
    const { meter, sink } = harness();
    await meter.runSettled({ runId: 'parent' }, async () => {
      await meter.llmCall({ model: PRICED_MODEL, phase: 'p' }, () => openAiResponse(1, 1));
      await meter.runSettled({ runId: 'child' }, () => meter.llmCall({ model: PRICED_MODEL, phase: 'c' }, () => openAiResponse(1, 1)));
      await meter.llmCall({ model: PRICED_MODEL, phase: 'p' }, () => openAiResponse(1, 1));
    });
    expect(sink.ofKind('llm_call').map((c) => `${c.phase}:${c.run_id}`)).toEqual(['p:parent', 'c:child', 'p:parent']);
  });

  it('records through the run handle even where the async context is lost', async () => {
    const { meter, sink } = harness();
    let handle: Parameters<Parameters<typeof meter.run>[1]>[0] | undefined;
    const done = meter.runSettled({ runId: 'held' }, async (run) => {
      handle = run;
      await sleep(5);
    });
    // Called from outside the run's async context, but through its handle.
    await handle!.llmCall({ model: PRICED_MODEL }, () => openAiResponse(7, 1));
    const result = await done;
    expect(result.event!.input_tokens).toBe(7);
    expect(sink.ofKind('llm_call')[0]!.run_id).toBe('held');
  });
});
