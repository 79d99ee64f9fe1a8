import { describe, expect, it } from 'vitest';
import { formatDurationMs } from '../../src/sinks/index.js';
import { PRICED_MODEL, UNPRICED_MODEL, harness, openAiResponse, sleep } from './fixtures.js';

/** enzu's RunEvent fields (seed 004, "RunEvent Schema" and "Retry Tracking"). */
const ENZU_FIELDS = [
  'run_id',
  'task_id',
  'provider',
  'model',
  'outcome',
  'success',
  'partial',
  'started_at',
  'finished_at',
  'elapsed_seconds',
  'input_tokens',
  'output_tokens',
  'total_tokens',
  'cost_usd',
  'limits_exceeded',
  'retries',
  'retries_by_reason',
  'retry_backoff_seconds',
  'budget_exceeded_during_retry',
  'attributes',
] as const;

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe('RunEvent', () => {
  it('carries every enzu field with the right type', async () => {
    const { meter } = harness();
    const result = await meter.runSettled({ runId: 'r-1', taskId: 'T-0099', attributes: { user_tier: 'gold' } }, async () => {
      meter.retry('rate_limit', 0.5);
      await meter.llmCall({ model: PRICED_MODEL, provider: 'openai' }, () => openAiResponse(100, 20));
    });
    const event = result.event!;
    for (const field of ENZU_FIELDS) expect(event, field).toHaveProperty(field);
    expect(event).toMatchObject({
      run_id: 'r-1',
      task_id: 'T-0099',
      provider: 'openai',
      model: PRICED_MODEL,
      outcome: 'success',
      success: true,
      partial: false,
      input_tokens: 100,
      output_tokens: 20,
      total_tokens: 120,
      cost_usd: 140,
      limits_exceeded: [],
      retries: 1,
      retries_by_reason: { rate_limit: 1 },
      retry_backoff_seconds: 0.5,
      budget_exceeded_during_retry: false,
      attributes: { user_tier: 'gold' },
    });
    expect(event.started_at).toMatch(ISO);
    expect(event.finished_at).toMatch(ISO);
    expect(typeof event.elapsed_seconds).toBe('number');
  });

  it('measures elapsed_seconds on the monotonic clock, consistent with started_at and finished_at', async () => {
    const { meter } = harness();
    const result = await meter.runSettled({}, () => sleep(30));
    const event = result.event!;
    expect(event.elapsed_seconds).toBeGreaterThanOrEqual(0.025);
    expect(event.elapsed_seconds).toBeLessThan(10);
    const wall = (Date.parse(event.finished_at) - Date.parse(event.started_at)) / 1000;
    // The stamps have millisecond resolution.
    expect(Math.abs(wall - event.elapsed_seconds)).toBeLessThanOrEqual(0.002);
    // Microsecond precision, no float noise.
    expect(Math.round(event.elapsed_seconds * 1e6) / 1e6).toBe(event.elapsed_seconds);
  });

  it('names the model that served most calls when the run does not name one', async () => {
    const { meter } = harness();
    const result = await meter.runSettled({}, async () => {
      await meter.llmCall({ model: UNPRICED_MODEL, provider: 'anthropic' }, () => openAiResponse(1, 1));
      await meter.llmCall({ model: PRICED_MODEL, provider: 'openai' }, () => openAiResponse(1, 1));
      await meter.llmCall({ model: PRICED_MODEL, provider: 'openai' }, () => openAiResponse(1, 1));
    });
    expect(result.event).toMatchObject({ provider: 'openai', model: PRICED_MODEL, llm_calls: 3 });
  });

  it('uses the provider and model the run names over the calls', async () => {
    const { meter } = harness({ defaults: { provider: 'openrouter' } });
    const named = await meter.runSettled({ provider: 'bedrock', model: 'claude' }, () => meter.llmCall({ model: PRICED_MODEL, provider: 'openai' }, () => openAiResponse(1, 1)));
    const defaulted = await meter.runSettled({}, () => meter.llmCall({ model: PRICED_MODEL, provider: 'openai' }, () => openAiResponse(1, 1)));
    expect(named.event).toMatchObject({ provider: 'bedrock', model: 'claude' });
    expect(defaulted.event).toMatchObject({ provider: 'openrouter', model: PRICED_MODEL });
  });

  it('leaves provider and model null for a run without LLM calls, with known zero tokens', async () => {
    const { meter } = harness();
    const result = await meter.runSettled({}, () => meter.toolCall('t', () => 1));
    expect(result.event).toMatchObject({ provider: null, model: null, input_tokens: 0, output_tokens: 0, total_tokens: 0, cost_usd: 0, llm_calls: 0 });
  });

  it('carries app, session and user ids for logs and the store', async () => {
    const { meter } = harness();
    const result = await meter.runSettled({ appId: 'app', sessionId: 'sess', userId: 'u-1' }, () => 1);
    expect(result.event).toMatchObject({ app_id: 'app', session_id: 'sess', user_id: 'u-1' });
    const bare = await meter.runSettled({}, () => 1);
    expect(bare.event).toMatchObject({ app_id: null, session_id: null, user_id: null });
  });

  it('is the same object in the result, in the run_finished event and in the stats', async () => {
    const { meter, sink } = harness();
    const result = await meter.runSettled({}, () => meter.llmCall({ model: PRICED_MODEL }, () => openAiResponse(3, 4)));
    const finished = sink.ofKind('run_finished')[0]!;
    expect(finished.event).toEqual(result.event);
    expect(finished.summary).toBe(result.summary);
    expect(finished.run.run_id).toBe(result.event!.run_id);
    expect(meter.snapshot().distributions.total_tokens).toMatchObject({ count: 1, sum: 7 });
  });
});

describe('tier-1 summary', () => {
  it("starts with 'Execution time: ' and shows the RunEvent's elapsed time", async () => {
    const { meter } = harness();
    const result = await meter.runSettled({}, async () => {
      await sleep(15);
      await meter.llmCall({ model: PRICED_MODEL }, () => openAiResponse(1234, 89));
    });
    const { summary, event } = result;
    expect(summary).toMatch(/^Execution time: /);
    expect(summary!.startsWith(`Execution time: ${formatDurationMs(event!.elapsed_seconds * 1000)} |`)).toBe(true);
    expect(summary).toContain('tokens: 1323 (in 1234, out 89)');
    expect(summary).toContain('outcome: success');
  });

  it('names the outcome and the limits of a run cut short', async () => {
    const { meter } = harness();
    const result = await meter.runSettled({ budget: { maxTokens: 1 } }, () => meter.llmCall({ model: PRICED_MODEL }, () => openAiResponse(5, 5)));
    expect(result.summary).toContain('outcome: budget_exceeded');
    expect(result.summary).toContain('limits: max_tokens');
  });

  it('leaves unknown tokens and cost out rather than printing 0', async () => {
    const { meter } = harness();
    const result = await meter.runSettled({}, () => meter.llmCall({ model: UNPRICED_MODEL, usage: 'none' }, () => 'x'));
    expect(result.summary).not.toContain('tokens');
    expect(result.summary).not.toContain('cost');
  });
});
