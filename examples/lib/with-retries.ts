import type { LlmCallMeta, Run } from '../../src/index.js';
import type { CompletionRequest, CompletionResult, Provider } from '../../src/runtime/providers/index.js';
import { ProviderError } from '../../src/runtime/providers/index.js';

export interface RetryPolicy {
  readonly maxAttempts: number;
  /** Multiplies backoff sleeps (same scale as the simulated latency). */
  readonly timeScale: number;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * One completion with retries on 429: each retry is recorded on the run with its reason
 * and the backoff actually slept, honouring Retry-After when the provider sends it.
 */
export async function completeWithRetries(run: Run, provider: Provider, meta: LlmCallMeta, request: CompletionRequest, policy: RetryPolicy): Promise<CompletionResult> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run.llmCall({ ...meta, usage: (result) => (result as CompletionResult).usage }, (call) =>
        provider.complete({ ...request, signal: call.signal, onFirstToken: () => call.firstToken() }),
      );
    } catch (err) {
      if (!(err instanceof ProviderError) || err.status !== 429 || attempt >= policy.maxAttempts) throw err;
      // Retry-After is already on the provider's (scaled) clock; the doubling is ours.
      const backoffSeconds = (err.retryAfterSeconds ?? policy.timeScale) * 2 ** (attempt - 1);
      run.retry('rate_limit', backoffSeconds);
      await sleep(backoffSeconds * 1000);
    }
  }
}
