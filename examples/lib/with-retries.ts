import type { LlmCallMeta, Run } from '../../src/index.js';
import type { ChatCompletion, ChatRequest, SimulatedLlm } from './simulated-llm.js';
import { SimulatedHttpError } from './simulated-llm.js';

export interface RetryPolicy {
  readonly maxAttempts: number;
  /** Multiplies Retry-After and backoff sleeps (same scale as the simulated latency). */
  readonly timeScale: number;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * One chat completion with retries on 429: each retry is recorded on the run with its
 * reason and the backoff actually slept, honouring Retry-After when the provider sends it.
 */
export async function completeWithRetries(run: Run, llm: SimulatedLlm, meta: LlmCallMeta, request: ChatRequest, policy: RetryPolicy): Promise<ChatCompletion> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run.llmCall(meta, (call) => llm.complete({ ...request, signal: call.signal }));
    } catch (err) {
      if (!(err instanceof SimulatedHttpError) || err.status !== 429 || attempt >= policy.maxAttempts) throw err;
      const retryAfter = Number(err.headers['retry-after'] ?? 1);
      const backoffSeconds = retryAfter * 2 ** (attempt - 1) * policy.timeScale;
      run.retry('rate_limit', backoffSeconds);
      await sleep(backoffSeconds * 1000);
    }
  }
}
