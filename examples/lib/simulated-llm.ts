/**
 * A seeded stand-in for an OpenAI-compatible chat model, for dry runs and tests: the
 * same seed gives the same latencies, token counts and failures. Latency and output
 * length follow log-normal distributions (LLM latency is right-skewed: most calls are
 * near the median, a few take several times longer), and a configurable share of
 * calls fails with a 429 that carries Retry-After, as real providers do under load.
 */

export interface ModelProfile {
  /** Median latency of a call in ms, before `timeScale`. */
  readonly medianLatencyMs: number;
  /** Spread of the log-normal latency (0.5 ≈ p95 at 2.3× the median). */
  readonly latencySigma: number;
  readonly medianOutputTokens: number;
  readonly outputSigma: number;
}

export const MODEL_PROFILES: Readonly<Record<string, ModelProfile>> = {
  'gpt-4o-mini': { medianLatencyMs: 450, latencySigma: 0.45, medianOutputTokens: 60, outputSigma: 0.6 },
  'gpt-4o': { medianLatencyMs: 1200, latencySigma: 0.55, medianOutputTokens: 320, outputSigma: 0.5 },
  'claude-sonnet-4': { medianLatencyMs: 1500, latencySigma: 0.5, medianOutputTokens: 380, outputSigma: 0.5 },
};

const DEFAULT_PROFILE: ModelProfile = { medianLatencyMs: 800, latencySigma: 0.5, medianOutputTokens: 150, outputSigma: 0.6 };

export interface SimulatedLlmOptions {
  readonly seed?: number;
  /** Multiplies every latency; 0.02 turns a 1.2 s call into 24 ms for demos and tests. */
  readonly timeScale?: number;
  /** Share of calls answered with 429 Too Many Requests. */
  readonly rateLimitRate?: number;
  /** Retry-After the 429s carry, in seconds (before `timeScale`). */
  readonly retryAfterSeconds?: number;
}

export interface ChatMessage {
  readonly role: 'system' | 'user' | 'assistant';
  readonly content: string;
}

export interface ChatRequest {
  readonly model: string;
  readonly messages: readonly ChatMessage[];
  readonly signal?: AbortSignal;
}

/** The parts of an OpenAI Chat Completions response that callers read. */
export interface ChatCompletion {
  readonly id: string;
  readonly model: string;
  readonly choices: readonly { readonly index: number; readonly message: ChatMessage; readonly finish_reason: 'stop' }[];
  readonly usage: {
    readonly prompt_tokens: number;
    readonly completion_tokens: number;
    readonly total_tokens: number;
    readonly prompt_tokens_details: { readonly cached_tokens: number };
  };
}

/** An HTTP error as provider SDKs raise it: `status` plus the response headers. */
export class SimulatedHttpError extends Error {
  override readonly name = 'SimulatedHttpError';
  constructor(
    readonly status: number,
    readonly headers: Readonly<Record<string, string>>,
    message: string,
  ) {
    super(message);
  }
}

/** mulberry32: small, fast, and good enough to drive a simulation deterministically. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A log-normal draw with the given median, via Box–Muller. */
function logNormal(random: () => number, median: number, sigma: number): number {
  const u = 1 - random();
  const v = random();
  const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  return median * Math.exp(sigma * z);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** About four characters per token for English text, as tokenizers average. */
export function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

export class SimulatedLlm {
  private readonly random: () => number;
  private readonly timeScale: number;
  private readonly rateLimitRate: number;
  private readonly retryAfterSeconds: number;
  private calls = 0;

  constructor(options: SimulatedLlmOptions = {}) {
    this.random = seededRandom(options.seed ?? 42);
    this.timeScale = options.timeScale ?? 1;
    this.rateLimitRate = options.rateLimitRate ?? 0.05;
    this.retryAfterSeconds = options.retryAfterSeconds ?? 1;
  }

  async complete(request: ChatRequest): Promise<ChatCompletion> {
    const profile = MODEL_PROFILES[request.model] ?? DEFAULT_PROFILE;
    // Draw everything up front so the sequence of draws, and so the whole simulation,
    // does not depend on how calls interleave in time.
    const limited = this.random() < this.rateLimitRate;
    const latency = logNormal(this.random, profile.medianLatencyMs, profile.latencySigma) * this.timeScale;
    const output = Math.max(1, Math.round(logNormal(this.random, profile.medianOutputTokens, profile.outputSigma)));
    const cachedShare = this.random() < 0.3 ? 0.5 : 0;
    const id = ++this.calls;
    if (limited) {
      await sleep(latency * 0.1, request.signal);
      throw new SimulatedHttpError(429, { 'retry-after': String(this.retryAfterSeconds) }, 'Rate limit reached for requests');
    }
    await sleep(latency, request.signal);
    const prompt = request.messages.reduce((sum, m) => sum + estimateTokens(m.content) + 4, 3);
    const cached = Math.floor(prompt * cachedShare);
    return {
      id: `chatcmpl-sim-${id}`,
      model: request.model,
      choices: [{ index: 0, message: { role: 'assistant', content: `simulated answer #${id} (${output} tokens)` }, finish_reason: 'stop' }],
      usage: { prompt_tokens: prompt, completion_tokens: output, total_tokens: prompt + output, prompt_tokens_details: { cached_tokens: cached } },
    };
  }
}
