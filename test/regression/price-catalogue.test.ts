import { describe, expect, it } from 'vitest';
import { harness } from '../meter/fixtures.js';

/**
 * Issue 13, prices: the built-in table had flat rates, so a Claude Sonnet 4.5 call above
 * 200k input tokens was under-priced by half; router spellings must still resolve; a model
 * nobody prices keeps a null cost.
 */
describe('prices from the maintained catalogue', () => {
  it('charges a long-context Claude Sonnet 4.5 call at the long-context rate', async () => {
    const { meter, sink } = harness({ prices: undefined });
    await meter.runSettled({}, () =>
      meter.llmCall({ model: 'anthropic/claude-sonnet-4.5', provider: 'openrouter' }, () => ({ usage: { prompt_tokens: 300_000, completion_tokens: 1_000 } })),
    );
    await meter.flush();
    // 300,000 × $6/M + 1,000 × $22.5/M; the flat table said 300,000 × $3/M + 1,000 × $15/M = $0.915.
    expect(sink.ofKind('llm_call')[0]).toMatchObject({ cost_usd: 1.8225, cost_source: 'price_table' });
  });

  it('resolves a router spelling of a dated snapshot', async () => {
    const { meter, sink } = harness({ prices: undefined });
    await meter.runSettled({}, () => meter.llmCall({ model: 'openai/gpt-4o-2024-08-06' }, () => ({ usage: { prompt_tokens: 1_000, completion_tokens: 100 } })));
    await meter.flush();
    expect(sink.ofKind('llm_call')[0]).toMatchObject({ cost_usd: 0.0035, cost_source: 'price_table' });
  });

  it('keeps the cost null, with no source, when neither the catalogue nor the user knows the model', async () => {
    const { meter, sink } = harness({ prices: undefined });
    const result = await meter.runSettled({}, () => meter.llmCall({ model: 'my-local-llama' }, () => ({ usage: { prompt_tokens: 10, completion_tokens: 1 } })));
    await meter.flush();
    expect(sink.ofKind('llm_call')[0]).toMatchObject({ cost_usd: null, cost_source: null });
    expect(result.event?.cost_usd).toBeNull();
  });
});
