import { describe, expect, it } from 'vitest';
import { errorType, outcomeOfError } from '../../../src/meter/errors.js';
import type { CompletionRequest, CompletionResult } from '../../../src/runtime/providers/index.js';
import { ProviderConfigError, ProviderError, SimulatedProvider } from '../../../src/runtime/providers/index.js';

const request: CompletionRequest = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Summarise the ticket in one line.' }] };

async function outcomes(provider: SimulatedProvider, calls: number): Promise<(CompletionResult | string)[]> {
  const settled = await Promise.allSettled(Array.from({ length: calls }, () => provider.complete(request)));
  return settled.map((s) => (s.status === 'fulfilled' ? s.value : errorType(s.reason)));
}

describe('SimulatedProvider', () => {
  it('gives the same answers, usage and failures for the same seed', async () => {
    const options = { seed: 7, timeScale: 0, rateLimitRate: 0.2 };
    const a = await outcomes(new SimulatedProvider(options), 20);
    expect(await outcomes(new SimulatedProvider(options), 20)).toEqual(a);
    expect(await outcomes(new SimulatedProvider({ ...options, seed: 8 }), 20)).not.toEqual(a);
    expect(a).toContain('rate_limit');
  });

  it('gives call N the same result whether calls run one by one or all at once', async () => {
    const options = { seed: 3, timeScale: 0.001 };
    const concurrent = await outcomes(new SimulatedProvider(options), 10);
    const sequential = new SimulatedProvider(options);
    for (let i = 0; i < 10; i++) expect(await sequential.complete(request)).toEqual(concurrent[i]);
  });

  it('injects failures at about the configured rates over 2,000 calls', async () => {
    const provider = new SimulatedProvider({ seed: 42, timeScale: 0, rateLimitRate: 0.05, serverErrorRate: 0.03, timeoutRate: 0.02 });
    const counts: Record<string, number> = {};
    for (const outcome of await outcomes(provider, 2000)) {
      const key = typeof outcome === 'string' ? outcome : 'ok';
      counts[key] = (counts[key] ?? 0) + 1;
    }
    // Exact for seed 42 — and each within three standard deviations of 2,000 × rate.
    expect(counts).toEqual({ ok: 1794, rate_limit: 117, server_error: 49, timeout: 40 });
    for (const [key, rate] of [['rate_limit', 0.05], ['server_error', 0.03], ['timeout', 0.02]] as const) {
      expect(Math.abs(counts[key]! - 2000 * rate)).toBeLessThan(3 * Math.sqrt(2000 * rate * (1 - rate)));
    }
  });

  it('answers a 429 with Retry-After scaled like every other duration', async () => {
    const provider = new SimulatedProvider({ timeScale: 0.01, rateLimitRate: 1, retryAfterSeconds: 3 });
    const err = await provider.complete(request).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({ status: 429, retryAfterSeconds: 0.03 });
  });

  it('reports usage from the prompt length and the drawn answer length', async () => {
    const result = await new SimulatedProvider({ timeScale: 0 }).complete(request);
    expect(result.model).toBe('gpt-4o-mini');
    expect(result.finishReason).toBe('stop');
    // 33 characters → 9 tokens, + 4 per message + 3 per reply.
    expect(result.usage?.inputTokens).toBe(16);
    expect(result.usage?.totalTokens).toBe(16 + result.usage!.outputTokens!);
    expect(result.text.split(' ')).toHaveLength(result.usage!.outputTokens!);
  });

  it('stops at maxTokens with finish reason length', async () => {
    const result = await new SimulatedProvider({ timeScale: 0 }).complete({ ...request, model: 'claude-sonnet-4', maxTokens: 5 });
    expect(result.usage?.outputTokens).toBe(5);
    expect(result.finishReason).toBe('length');
  });

  it('calls onFirstToken once, before the answer, when streaming, and never otherwise', async () => {
    const provider = new SimulatedProvider({ timeScale: 0.05 });
    const events: string[] = [];
    await provider.complete({ ...request, onFirstToken: () => events.push('first-token') });
    events.push('done');
    await provider.complete({ ...request, stream: false, onFirstToken: () => events.push('first-token') });
    expect(events).toEqual(['first-token', 'done']);
  });

  it('rejects with an AbortError when aborted mid-call', async () => {
    const provider = new SimulatedProvider({ timeScale: 1 });
    const controller = new AbortController();
    const started = performance.now();
    const pending = provider.complete({ ...request, signal: controller.signal, onFirstToken: () => controller.abort() });
    const err = await pending.catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'AbortError' });
    expect(outcomeOfError(err, 'llm')).toBe('cancelled');
    expect(performance.now() - started).toBeLessThan(400);
  });

  it('matches dated model names to their profile and unknown ones to the default', () => {
    const provider = new SimulatedProvider({ profiles: { mine: { medianLatencyMs: 1, latencySigma: 0, medianOutputTokens: 1, outputSigma: 0 } } });
    expect(provider.profileFor('gpt-4o-mini-2024-07-18').medianLatencyMs).toBe(450);
    expect(provider.profileFor('gpt-4o-2024-08-06').medianLatencyMs).toBe(1200);
    expect(provider.profileFor('mine').medianLatencyMs).toBe(1);
    expect(provider.profileFor('llama3.2').medianLatencyMs).toBe(800);
  });

  it('refuses failure rates that are out of range or add up to more than one', () => {
    expect(() => new SimulatedProvider({ rateLimitRate: 1.5 })).toThrow(ProviderConfigError);
    expect(() => new SimulatedProvider({ rateLimitRate: 0.6, timeoutRate: 0.6 })).toThrow(/must not exceed 1/);
    expect(() => new SimulatedProvider({ timeScale: -1 })).toThrow(/timeScale/);
  });
});
