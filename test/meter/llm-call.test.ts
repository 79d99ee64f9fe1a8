import { describe, expect, it } from 'vitest';
import { anthropicUsage, autoUsage, openAiUsage } from '../../src/meter/index.js';
import type { UsageExtractor } from '../../src/meter/index.js';
import { PRICED_MODEL, UNPRICED_MODEL, anthropicResponse, codeError, harness, httpError, openAiResponse, sleep } from './fixtures.js';

const CACHE_MODEL = 'flowmeter-cache-model';
// Per token: input $1, output $2, cache read $0.5, cache write $1.25.
const CACHE_PRICES = { models: { [CACHE_MODEL]: { input: 1_000_000, output: 2_000_000, cached_input: 500_000, cache_write: 1_250_000 } } };

describe('llmCall usage', () => {
  it('reads tokens from an OpenAI Chat Completions response and prices them from the table', async () => {
    const { meter, sink } = harness();
    const result = await meter.runSettled({}, () => meter.llmCall({ model: PRICED_MODEL, provider: 'openai' }, () => openAiResponse(100, 20)));
    const call = sink.ofKind('llm_call')[0]!;
    expect(call).toMatchObject({
      provider: 'openai',
      model: PRICED_MODEL,
      input_tokens: 100,
      output_tokens: 20,
      total_tokens: 120,
      cached_input_tokens: 0,
      cost_usd: 140,
      cost_source: 'price_table',
      streaming: false,
      ttft_ms: null,
      cache_hit: false,
      error_type: null,
    });
    expect(result.event).toMatchObject({ input_tokens: 100, output_tokens: 20, total_tokens: 120, cost_usd: 140, provider: 'openai', model: PRICED_MODEL });
  });

  it('reads cached prompt tokens from OpenAI prompt_tokens_details and prices them at the cache-read rate', async () => {
    const { meter, sink } = harness({ prices: CACHE_PRICES });
    await meter.runSettled({}, () => meter.llmCall({ model: CACHE_MODEL }, () => openAiResponse(100, 10, { prompt_tokens_details: { cached_tokens: 60 } })));
    const call = sink.ofKind('llm_call')[0]!;
    expect(call).toMatchObject({ input_tokens: 100, cached_input_tokens: 60, total_tokens: 110 });
    // 40 uncached × $1 + 60 cached × $0.5 + 10 out × $2
    expect(call.cost_usd).toBeCloseTo(90, 9);
  });

  it('reads the OpenAI Responses API shape (input_tokens, output_tokens, input_tokens_details)', async () => {
    const { meter, sink } = harness();
    const response = { output: [], usage: { input_tokens: 30, output_tokens: 7, total_tokens: 37, input_tokens_details: { cached_tokens: 5 } } };
    await meter.runSettled({}, () => meter.llmCall({ model: PRICED_MODEL }, () => response));
    expect(sink.ofKind('llm_call')[0]).toMatchObject({ input_tokens: 30, output_tokens: 7, total_tokens: 37, cached_input_tokens: 5 });
  });

  it('folds Anthropic cache reads and cache writes into input tokens and prices each at its rate', async () => {
    const { meter, sink } = harness({ prices: CACHE_PRICES });
    const response = anthropicResponse({ input_tokens: 10, cache_read_input_tokens: 100, cache_creation_input_tokens: 50, output_tokens: 5 });
    const result = await meter.runSettled({}, () => meter.llmCall({ model: CACHE_MODEL, provider: 'anthropic' }, () => response));
    const call = sink.ofKind('llm_call')[0]!;
    expect(call).toMatchObject({ input_tokens: 160, output_tokens: 5, total_tokens: 165, cached_input_tokens: 100, cost_source: 'price_table' });
    // 10 × $1 + 100 × $0.5 + 50 × $1.25 + 5 × $2
    expect(call.cost_usd).toBeCloseTo(132.5, 9);
    expect(result.event!.input_tokens).toBe(160);
  });

  it('reads an Anthropic response with usage: "anthropic" even without cache fields', async () => {
    const { meter, sink } = harness();
    await meter.runSettled({}, () => meter.llmCall({ model: PRICED_MODEL, usage: 'anthropic' }, () => anthropicResponse({ input_tokens: 12, output_tokens: 3 })));
    expect(sink.ofKind('llm_call')[0]).toMatchObject({ input_tokens: 12, output_tokens: 3, total_tokens: 15 });
  });

  it('uses a custom extractor for a response shape of its own', async () => {
    const { meter, sink } = harness();
    const extractor: UsageExtractor = (r) => {
      const { tokens } = r as { tokens: { in: number; out: number } };
      return { inputTokens: tokens.in, outputTokens: tokens.out };
    };
    const response = { text: 'hi', tokens: { in: 8, out: 2 } };
    const value = await meter.runSettled({}, () => meter.llmCall({ model: PRICED_MODEL, usage: extractor }, () => response));
    expect(value.ok && value.value).toBe(response);
    expect(sink.ofKind('llm_call')[0]).toMatchObject({ input_tokens: 8, output_tokens: 2, total_tokens: 10, cost_usd: 12 });
  });

  it('lets call.usage() override the usage found in the response', async () => {
    const { meter, sink } = harness();
    const result = await meter.runSettled({}, () =>
      meter.llmCall({ model: PRICED_MODEL }, (call) => {
        call.usage({ inputTokens: 50, outputTokens: 5 });
        return openAiResponse(1, 1);
      }),
    );
    expect(sink.ofKind('llm_call')[0]).toMatchObject({ input_tokens: 50, output_tokens: 5, total_tokens: 55, cost_usd: 60 });
    expect(result.event!.total_tokens).toBe(55);
  });

  it('leaves tokens and cost unknown (null, not 0) when a successful call carries no usage', async () => {
    const { meter, sink } = harness();
    const result = await meter.runSettled({}, async () => {
      await meter.llmCall({ model: PRICED_MODEL }, () => openAiResponse(10, 10));
      await meter.llmCall({ model: PRICED_MODEL }, () => ({ text: 'no usage here' }));
    });
    expect(sink.ofKind('llm_call')[1]).toMatchObject({ input_tokens: null, output_tokens: null, total_tokens: null, cost_usd: null, cost_source: null });
    expect(result.event).toMatchObject({ input_tokens: null, output_tokens: null, total_tokens: null, cost_usd: null });
  });

  it('does not read usage at all with usage: "none"', async () => {
    const { meter, sink } = harness();
    await meter.runSettled({}, () => meter.llmCall({ model: PRICED_MODEL, usage: 'none' }, () => openAiResponse(10, 10)));
    expect(sink.ofKind('llm_call')[0]!.input_tokens).toBeNull();
  });
});

describe('llmCall timing', () => {
  it('records time to first token and marks the call streaming when call.firstToken() is used', async () => {
    const { meter, sink } = harness();
    await meter.runSettled({}, () =>
      meter.llmCall({ model: PRICED_MODEL }, async (call) => {
        await sleep(20);
        call.firstToken();
        call.firstToken(); // only the first one counts
        await sleep(20);
        return openAiResponse(1, 1);
      }),
    );
    const call = sink.ofKind('llm_call')[0]!;
    expect(call.streaming).toBe(true);
    expect(call.ttft_ms).not.toBeNull();
    // Lower bounds only: timers never fire early by more than a millisecond.
    expect(call.ttft_ms!).toBeGreaterThanOrEqual(15);
    expect(call.duration_ms).toBeGreaterThanOrEqual(call.ttft_ms! + 15);
    expect(Date.parse(call.end_ts) - Date.parse(call.start_ts)).toBeCloseTo(call.duration_ms, -1);
  });

  it('keeps streaming as declared in the meta even without a first token', async () => {
    const { meter, sink } = harness();
    await meter.runSettled({}, () => meter.llmCall({ model: PRICED_MODEL, streaming: true }, () => openAiResponse(1, 1)));
    expect(sink.ofKind('llm_call')[0]).toMatchObject({ streaming: true, ttft_ms: null });
  });

  it('records a cache hit reported by the caller', async () => {
    const { meter, sink } = harness();
    await meter.runSettled({}, () =>
      meter.llmCall({ model: PRICED_MODEL }, (call) => {
        call.cacheHit();
        return openAiResponse(1, 1);
      }),
    );
    expect(sink.ofKind('llm_call')[0]!.cache_hit).toBe(true);
  });
});

describe('llmCall cost', () => {
  it('prefers the provider-reported usage.cost over the price table', async () => {
    const { meter, sink } = harness();
    const result = await meter.runSettled({}, () => meter.llmCall({ model: PRICED_MODEL }, () => openAiResponse(10, 5, { cost: 0.0042 })));
    expect(sink.ofKind('llm_call')[0]).toMatchObject({ cost_usd: 0.0042, cost_source: 'provider' });
    expect(result.event!.cost_usd).toBe(0.0042);
  });

  it('uses a provider cost even for a model the price table does not know', async () => {
    const { meter, sink } = harness();
    await meter.runSettled({}, () => meter.llmCall({ model: UNPRICED_MODEL }, (call) => call.usage({ inputTokens: 1, outputTokens: 1, costUsd: 0.5 })));
    expect(sink.ofKind('llm_call')[0]).toMatchObject({ cost_usd: 0.5, cost_source: 'provider' });
  });

  it('leaves cost null for an unknown model, makes the run cost null, and counts the run as cost-unknown', async () => {
    const { meter, sink } = harness();
    const priced = await meter.runSettled({}, () => meter.llmCall({ model: PRICED_MODEL }, () => openAiResponse(1, 1)));
    const unpriced = await meter.runSettled({}, async () => {
      await meter.llmCall({ model: PRICED_MODEL }, () => openAiResponse(1, 1));
      await meter.llmCall({ model: UNPRICED_MODEL }, () => openAiResponse(1, 1));
    });
    expect(sink.ofKind('llm_call')[2]).toMatchObject({ model: UNPRICED_MODEL, input_tokens: 1, cost_usd: null, cost_source: null });
    expect(priced.event!.cost_usd).toBe(3);
    expect(unpriced.event!.cost_usd).toBeNull();
    // Tokens of the unpriced call are still known.
    expect(unpriced.event!.total_tokens).toBe(4);
    const snap = meter.snapshot();
    expect(snap).toMatchObject({ total_runs: 2, cost_known_runs: 1, cost_unknown_runs: 1, cost_coverage: 0.5 });
  });

  it('prices calls with the built-in table when the model is a known one', async () => {
    const { meter, sink } = harness();
    await meter.runSettled({}, () => meter.llmCall({ model: 'openai/gpt-4o-2024-08-06' }, () => openAiResponse(1_000_000, 0)));
    // gpt-4o: $2.50 per 1M input tokens.
    expect(sink.ofKind('llm_call')[0]!.cost_usd).toBeCloseTo(2.5, 9);
  });
});

describe('llmCall failures', () => {
  it.each([
    ['a 429', httpError(429), 'rate_limit'],
    ['a 500', httpError(500), 'server_error'],
    ['a 503 on response.status', Object.assign(new Error('unavailable'), { response: { status: 503 } }), 'server_error'],
    ['ECONNRESET', codeError('ECONNRESET'), 'connection_error'],
    ['ETIMEDOUT', codeError('ETIMEDOUT'), 'timeout'],
    ['a 400', httpError(400), 'invalid_request'],
    ['a TypeError', new TypeError('nope'), 'TypeError'],
  ])('records %s with error_type %s and rethrows the same error', async (_label, error, type) => {
    const { meter, sink } = harness();
    let caught: unknown;
    let after = false;
    const result = await meter.runSettled({}, async () => {
      try {
        await meter.llmCall({ model: PRICED_MODEL }, () => Promise.reject(error));
      } catch (err) {
        caught = err;
      }
      after = true;
    });
    expect(caught).toBe(error);
    expect(after).toBe(true);
    expect(result.ok).toBe(true);
    expect(sink.ofKind('llm_call')[0]).toMatchObject({ error_type: type, input_tokens: null, cost_usd: null });
    // The run succeeded after handling the failure: no error class on the run.
    expect(result.event).toMatchObject({ outcome: 'success', error_type: null, llm_calls: 1 });
  });

  it('turns a synchronous throw inside llmCall into a rejection and records it', async () => {
    const { meter, sink } = harness();
    const boom = new Error('sync');
    await meter.runSettled({}, async () => {
      const p = meter.llmCall({ model: PRICED_MODEL }, () => {
        throw boom;
      });
      await expect(p).rejects.toBe(boom);
    });
    expect(sink.ofKind('llm_call')[0]!.error_type).toBe('Error');
  });

  it('keeps run totals known when a failed call reported nothing (it billed nothing we can see)', async () => {
    const { meter } = harness();
    const result = await meter.runSettled({}, async () => {
      await meter.llmCall({ model: PRICED_MODEL }, () => Promise.reject(httpError(429))).catch(() => undefined);
      await meter.llmCall({ model: PRICED_MODEL }, () => openAiResponse(10, 1));
    });
    expect(result.event).toMatchObject({ input_tokens: 10, output_tokens: 1, cost_usd: 12, llm_calls: 2 });
  });

  it('counts usage a failed call did report', async () => {
    const { meter, sink } = harness();
    const result = await meter.runSettled({}, async () => {
      await meter
        .llmCall({ model: PRICED_MODEL }, (call) => {
          call.usage({ inputTokens: 4, outputTokens: 0 });
          throw httpError(500);
        })
        .catch(() => undefined);
    });
    expect(sink.ofKind('llm_call')[0]).toMatchObject({ input_tokens: 4, error_type: 'server_error' });
    expect(result.event!.input_tokens).toBe(4);
  });
});

describe('built-in usage extractors', () => {
  it('return undefined for a response without usage', () => {
    for (const extract of [openAiUsage, anthropicUsage, autoUsage]) {
      expect(extract(undefined)).toBeUndefined();
      expect(extract({ usage: null })).toBeUndefined();
      expect(extract({ usage: {} })).toBeUndefined();
    }
  });

  it('auto-detects the Anthropic shape from its cache fields', () => {
    expect(autoUsage(anthropicResponse({ input_tokens: 1, output_tokens: 1, cache_read_input_tokens: 2 }))).toEqual({
      inputTokens: 3,
      outputTokens: 1,
      cachedInputTokens: 2,
      cacheWriteTokens: undefined,
    });
  });

  it('reads OpenRouter usage.cost as costUsd', () => {
    expect(openAiUsage(openAiResponse(1, 2, { cost: 0.01 }))).toMatchObject({ inputTokens: 1, outputTokens: 2, totalTokens: 3, costUsd: 0.01 });
  });
});
