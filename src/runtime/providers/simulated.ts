/**
 * A seeded stand-in for a chat model, for dry runs and tests: the same seed gives the same
 * latencies, token counts, answers and failures. Latency and answer length are log-normal
 * per model; a configurable share of calls fails the way real providers do under load —
 * 429 with Retry-After, a 5xx, or a client timeout.
 */
import type { CompletionRequest, CompletionResult, Provider } from './provider.js';
import { ProviderConfigError, ProviderError, abortError, notify } from './provider.js';
import { callSeed, logNormal, mulberry32 } from './random.js';

export interface SimulatedModelProfile {
  /** Median latency of a whole call in ms, before `timeScale`. */
  readonly medianLatencyMs: number;
  /** Spread of the log-normal latency (0.5 puts p95 at about 2.3× the median). */
  readonly latencySigma: number;
  readonly medianOutputTokens: number;
  readonly outputSigma: number;
}

/** Rough shapes of real models; a model name matches its longest listed prefix. */
export const SIMULATED_PROFILES: Readonly<Record<string, SimulatedModelProfile>> = {
  'gpt-4o-mini': { medianLatencyMs: 450, latencySigma: 0.45, medianOutputTokens: 60, outputSigma: 0.6 },
  'gpt-4o': { medianLatencyMs: 1200, latencySigma: 0.55, medianOutputTokens: 320, outputSigma: 0.5 },
  'gpt-4.1-mini': { medianLatencyMs: 500, latencySigma: 0.45, medianOutputTokens: 80, outputSigma: 0.6 },
  'claude-haiku': { medianLatencyMs: 600, latencySigma: 0.45, medianOutputTokens: 120, outputSigma: 0.55 },
  'claude-sonnet': { medianLatencyMs: 1500, latencySigma: 0.5, medianOutputTokens: 380, outputSigma: 0.5 },
};

export const DEFAULT_SIMULATED_PROFILE: SimulatedModelProfile = { medianLatencyMs: 800, latencySigma: 0.5, medianOutputTokens: 150, outputSigma: 0.6 };

export interface SimulatedProviderOptions {
  /** Default 42. */
  readonly seed?: number;
  /** Multiplies every latency and Retry-After; 0.02 turns a 1.2 s call into 24 ms. Default 1. */
  readonly timeScale?: number;
  /** Added to (and overriding) `SIMULATED_PROFILES`. */
  readonly profiles?: Readonly<Record<string, SimulatedModelProfile>>;
  readonly defaultProfile?: SimulatedModelProfile;
  /** Share of calls answered 429 Too Many Requests. Default 0. */
  readonly rateLimitRate?: number;
  /** Share of calls answered 500, 502 or 503. Default 0. */
  readonly serverErrorRate?: number;
  /** Share of calls that hang until the client's `timeoutMs`. Default 0. */
  readonly timeoutRate?: number;
  /** Retry-After the 429s carry, in seconds before `timeScale`. Default 1. */
  readonly retryAfterSeconds?: number;
  /** When a hanging call gives up, in ms before `timeScale`. Default 30 000. */
  readonly timeoutMs?: number;
  /** Share of calls whose prompt is half served from a prompt cache. Default 0.3. */
  readonly cacheHitRate?: number;
}

/** About four characters per token for English text, as tokenizers average. */
export function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

/** Three letters and a space: one word is about one token, so text length matches usage. */
const WORDS = ['the', 'run', 'and', 'low', 'key', 'map', 'set', 'yes', 'use', 'new', 'one', 'two', 'for', 'all', 'can', 'log'];

type Failure = 'none' | 'rate_limit' | 'server_error' | 'timeout';

function rate(options: SimulatedProviderOptions, key: 'rateLimitRate' | 'serverErrorRate' | 'timeoutRate' | 'cacheHitRate', fallback: number): number {
  const value = options[key] ?? fallback;
  if (!(value >= 0 && value <= 1)) throw new ProviderConfigError(`simulated ${key} must be between 0 and 1, got ${value}`);
  return value;
}

function nonNegative(value: number, name: string): number {
  if (!(value >= 0 && Number.isFinite(value))) throw new ProviderConfigError(`simulated ${name} must be a finite number >= 0, got ${value}`);
  return value;
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    if (ms <= 0) return resolve();
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortError(signal!));
    };
    // Leak free: the listener goes when the timer fires, the timer when the signal does.
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export class SimulatedProvider implements Provider {
  readonly name = 'simulated';
  private readonly seed: number;
  private readonly timeScale: number;
  private readonly profiles: Readonly<Record<string, SimulatedModelProfile>>;
  private readonly defaultProfile: SimulatedModelProfile;
  private readonly rateLimitRate: number;
  private readonly serverErrorRate: number;
  private readonly timeoutRate: number;
  private readonly cacheHitRate: number;
  private readonly retryAfterSeconds: number;
  private readonly timeoutMs: number;
  private calls = 0;

  constructor(options: SimulatedProviderOptions = {}) {
    this.seed = options.seed ?? 42;
    this.timeScale = nonNegative(options.timeScale ?? 1, 'timeScale');
    this.profiles = { ...SIMULATED_PROFILES, ...options.profiles };
    this.defaultProfile = options.defaultProfile ?? DEFAULT_SIMULATED_PROFILE;
    this.rateLimitRate = rate(options, 'rateLimitRate', 0);
    this.serverErrorRate = rate(options, 'serverErrorRate', 0);
    this.timeoutRate = rate(options, 'timeoutRate', 0);
    this.cacheHitRate = rate(options, 'cacheHitRate', 0.3);
    if (this.rateLimitRate + this.serverErrorRate + this.timeoutRate > 1) {
      throw new ProviderConfigError('simulated rateLimitRate + serverErrorRate + timeoutRate must not exceed 1');
    }
    this.retryAfterSeconds = nonNegative(options.retryAfterSeconds ?? 1, 'retryAfterSeconds');
    this.timeoutMs = nonNegative(options.timeoutMs ?? 30_000, 'timeoutMs');
  }

  /** The profile for a model: exact name, else the longest listed prefix (dated names). */
  profileFor(model: string): SimulatedModelProfile {
    let best: string | undefined;
    for (const name of Object.keys(this.profiles)) {
      if (model.startsWith(name) && (best === undefined || name.length > best.length)) best = name;
    }
    return (best === undefined ? undefined : this.profiles[best]) ?? this.defaultProfile;
  }

  async complete(request: CompletionRequest): Promise<CompletionResult> {
    // The call's index is taken before any await, and each call draws from a generator of
    // its own, so call N behaves the same however calls interleave.
    const index = this.calls++;
    const random = mulberry32(callSeed(this.seed, index));
    const profile = this.profileFor(request.model);
    const u = random();
    const failure: Failure =
      u < this.rateLimitRate ? 'rate_limit' : u < this.rateLimitRate + this.serverErrorRate ? 'server_error' : u < this.rateLimitRate + this.serverErrorRate + this.timeoutRate ? 'timeout' : 'none';
    const latency = logNormal(random, profile.medianLatencyMs, profile.latencySigma) * this.timeScale;
    const wanted = Math.max(1, Math.round(logNormal(random, profile.medianOutputTokens, profile.outputSigma)));
    // Time to first token: a fifth to a half of the call, the rest is decoding.
    const ttft = latency * (0.2 + 0.3 * random());
    const cached = random() < this.cacheHitRate;
    const status = [500, 502, 503][Math.floor(random() * 3)] ?? 500;
    switch (failure) {
      case 'rate_limit':
        await sleep(latency * 0.1, request.signal);
        throw new ProviderError('simulated 429: Rate limit reached for requests', 429, this.retryAfterSeconds * this.timeScale, 'rate_limit_exceeded');
      case 'server_error':
        await sleep(latency * 0.5, request.signal);
        throw new ProviderError(`simulated ${status}: The server had an error while processing your request`, status);
      case 'timeout':
        await sleep(this.timeoutMs * this.timeScale, request.signal);
        throw new ProviderError(`simulated request timed out after ${this.timeoutMs}ms`, undefined, undefined, 'ETIMEDOUT');
      case 'none':
        break;
      default: {
        const unhandled: never = failure;
        throw new Error(`unhandled failure ${String(unhandled)}`);
      }
    }
    const output = request.maxTokens === undefined ? wanted : Math.min(wanted, Math.max(1, request.maxTokens));
    // The answer is drawn now (the draws are part of the call's seeded sequence) and kept as
    // one flat string while the call waits, not as a list of words (nor a rope of `+=`).
    const words: string[] = [`sim#${index}`];
    for (let i = 1; i < output; i++) words.push(WORDS[Math.floor(random() * WORDS.length)] ?? 'the');
    const text = words.join(' ');
    if (request.stream ?? true) {
      await sleep(ttft, request.signal);
      notify(request.onFirstToken);
      await sleep(latency - ttft, request.signal);
    } else {
      await sleep(latency, request.signal);
    }
    // Chat formats add a few tokens per message and per reply (OpenAI's cookbook: 3 + 4/message).
    const input = request.messages.reduce((sum, m) => sum + estimateTokens(m.content) + 4, 3);
    return {
      text,
      model: request.model,
      usage: {
        inputTokens: input,
        outputTokens: output,
        totalTokens: input + output,
        cachedInputTokens: cached ? Math.floor(input / 2) : 0,
      },
      finishReason: output < wanted ? 'length' : 'stop',
    };
  }
}
