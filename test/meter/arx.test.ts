import { describe, expect, it } from 'vitest';
import { PRICED_MODEL, UNPRICED_MODEL, harness, httpError, nextMacrotask, openAiResponse } from './fixtures.js';

/** ARX's runbook example (seed 001), line for line, on flowmeter's API. */
describe('ARX-style instrumentation', () => {
  it('opens a run with flowStart(flow, persona, exec_mode, branch)', () => {
    const { meter, sink } = harness();
    const run = meter.flowStart('my_flow', 'CODER_AI', 'dry_run', 'main');
    expect(run.meta).toMatchObject({ flow_id: 'my_flow', agent: 'CODER_AI', exec_mode: 'dry_run', branch: 'main', task_id: null });
    expect(run.id).toBe(run.meta.run_id);
    run.flowEnd(true);
    expect(sink.ofKind('run_started')[0]!.run).toEqual(run.meta);
  });

  it('times a step, prices tokensIn/tokensOut by model, and ends with success', () => {
    const { meter, sink } = harness();
    const run = meter.flowStart('my_flow', 'CODER_AI', 'dry_run', 'main');
    const step = run.stepTimer('step_1', { model: PRICED_MODEL });
    step.end();
    run.tokensIn(PRICED_MODEL, 1500);
    run.tokensOut(PRICED_MODEL, 800);
    const finish = run.flowEnd(true)!;

    expect(finish.event).toMatchObject({
      flow_id: 'my_flow',
      agent: 'CODER_AI',
      exec_mode: 'dry_run',
      branch: 'main',
      outcome: 'success',
      success: true,
      input_tokens: 1500,
      output_tokens: 800,
      total_tokens: 2300,
      // $1 per input token, $2 per output token
      cost_usd: 1500 + 1600,
      steps: 1,
      error_type: null,
    });
    expect(finish.summary).toMatch(/^Execution time: /);
    expect(sink.ofKind('step_started')[0]).toMatchObject({ step_id: 'step_1', flow_id: 'my_flow', agent: 'CODER_AI', model: PRICED_MODEL });
    expect(sink.ofKind('step_finished')[0]).toMatchObject({ step_id: 'step_1', exec_mode: 'dry_run', success: true, error: null });
    expect(sink.ofKind('step_finished')[0]!.duration_ms).toBeGreaterThanOrEqual(0);
    expect(sink.ofKind('run_finished')[0]!.event).toEqual(finish.event);
  });

  it('makes the run cost unknown when tokens are spent on a model without a price', () => {
    const { meter } = harness();
    const run = meter.flowStart('f');
    run.tokensIn(PRICED_MODEL, 10);
    run.tokensOut(UNPRICED_MODEL, 10);
    expect(run.flowEnd(true)!.event).toMatchObject({ total_tokens: 20, cost_usd: null });
  });

  it("ends with a failure outcome and the exception class as error_type on flowEnd(false, 'ValueError')", () => {
    const { meter } = harness();
    const run = meter.flowStart('my_flow', 'CODER_AI', 'dry_run', 'main');
    const finish = run.flowEnd(false, 'ValueError')!;
    expect(finish.event).toMatchObject({ outcome: 'tool_error', success: false, partial: false, error_type: 'ValueError' });
  });

  it('takes an outcome name as the reason of flowEnd(false, reason)', () => {
    const { meter } = harness();
    const finish = meter.flowStart('f').flowEnd(false, 'verification_failed')!;
    expect(finish.event).toMatchObject({ outcome: 'verification_failed', success: false });
  });

  it('ends with provider_error on flowEnd(false) after a failed LLM call', async () => {
    const { meter } = harness();
    const run = meter.flowStart('f');
    await run.llmCall({ model: PRICED_MODEL }, () => Promise.reject(httpError(503))).catch(() => undefined);
    expect(run.flowEnd(false)!.event).toMatchObject({ outcome: 'provider_error', error_type: 'server_error', llm_calls: 1 });
  });

  it('records LLM and tool calls made through the flow handle', async () => {
    const { meter, sink } = harness();
    const run = meter.flowStart('f');
    await run.llmCall({ model: PRICED_MODEL }, () => openAiResponse(3, 4));
    await run.toolCall('grep', () => 'found', { stepId: 'search' });
    const event = run.flowEnd(true)!.event;
    expect(event).toMatchObject({ llm_calls: 1, tool_calls: 1, total_tokens: 7 });
    expect(sink.ofKind('tool_call')[0]).toMatchObject({ tool: 'grep', step_id: 'search', run_id: run.id });
  });

  it('is idempotent: a second flowEnd returns the first result and emits nothing', async () => {
    const { meter, sink } = harness();
    const run = meter.flowStart('f');
    const first = run.flowEnd(true);
    const second = run.flowEnd(false, 'ValueError');
    expect(second).toBe(first);
    expect(second!.event.outcome).toBe('success');
    await nextMacrotask();
    expect(sink.ofKind('run_finished')).toHaveLength(1);
    expect(meter.snapshot().total_runs).toBe(1);
  });

  it('counts in-flight steps per flow up and back to 0', () => {
    const { meter } = harness();
    const a = meter.flowStart('flow_a');
    const b = meter.flowStart('flow_b');
    const s1 = a.stepTimer('s1');
    const s2 = a.stepTimer('s2');
    const s3 = b.stepTimer('s3');
    expect(Object.fromEntries(meter.inflightSteps())).toEqual({ flow_a: 2, flow_b: 1 });
    s1.end();
    s1.end(); // idempotent: does not count down twice
    expect(meter.inflightSteps().get('flow_a')).toBe(1);
    s2.end(false, 'KeyError');
    s3.end();
    expect(Object.fromEntries(meter.inflightSteps())).toEqual({ flow_a: 0, flow_b: 0 });
    a.flowEnd(true);
    b.flowEnd(true);
  });

  it('counts a callback step as in flight while it runs', async () => {
    const { meter } = harness();
    const seen: number[] = [];
    await meter.runSettled({ flowId: 'cb' }, (run) =>
      run.step('outer', () =>
        run.step('inner', () => {
          seen.push(meter.inflightSteps().get('cb')!);
        }),
      ),
    );
    expect(seen).toEqual([2]);
    expect(meter.inflightSteps().get('cb')).toBe(0);
  });

  it('records a failed step timer with its error class', () => {
    const { meter, sink } = harness();
    const run = meter.flowStart('f');
    run.stepTimer('s').end(false, 'KeyError');
    run.stepTimer('t').end(false);
    run.flowEnd(true);
    expect(sink.ofKind('step_finished').map((s) => [s.step_id, s.success, s.error])).toEqual([
      ['s', false, 'KeyError'],
      ['t', false, 'Error'],
    ]);
  });

  it('drops and counts bad token counts from tokensIn/tokensOut', () => {
    const { meter } = harness();
    const run = meter.flowStart('f');
    run.tokensIn(PRICED_MODEL, -3);
    run.tokensOut(PRICED_MODEL, Number.NaN);
    run.tokensIn(PRICED_MODEL, '7' as unknown as number);
    run.tokensIn(PRICED_MODEL, 2);
    expect(run.flowEnd(true)!.event).toMatchObject({ input_tokens: 2, output_tokens: 0, total_tokens: 2 });
    expect(meter.diagnostics().dropped_values).toEqual({ 'tokens_in:negative': 1, 'tokens_out:nan': 1, 'tokens_in:not_a_number': 1 });
  });

  it('does not record on a flow after flowEnd, and counts the attempts as late', async () => {
    const { meter, sink } = harness();
    const run = meter.flowStart('f');
    const finish = run.flowEnd(true)!;
    run.tokensIn(PRICED_MODEL, 100);
    await run.toolCall('t', () => 1);
    run.retry('rate_limit');
    await nextMacrotask();
    expect(finish.event.total_tokens).toBe(0);
    expect(sink.events.map((e) => e.kind)).toEqual(['run_started', 'run_finished']);
    expect(meter.diagnostics().late_events).toBe(3);
  });
});
