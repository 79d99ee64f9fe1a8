/**
 * One circuit breaker per provider, in typed arrays indexed by provider. Closed: calls go
 * through and consecutive failures are counted. After `failureThreshold` consecutive
 * failures it opens: nodes on that provider fail fast with CircuitOpenError until
 * `cooldownMs` has passed. Then it is half-open: calls go through again, one success closes
 * it, one failure opens it again at once (the count is still at the threshold).
 */
export interface CircuitBreakerOptions {
  readonly failureThreshold: number;
  readonly cooldownMs: number;
}

/** What a workflow run uses unless told otherwise: open after 5 failures in a row, for 30 s. */
export const DEFAULT_CIRCUIT_BREAKER: CircuitBreakerOptions = { failureThreshold: 5, cooldownMs: 30_000 };

export class CircuitBreakers {
  readonly #failures: Int32Array;
  readonly #openUntil: Float64Array;
  readonly #threshold: number;
  readonly #cooldownMs: number;
  readonly #now: () => number;

  constructor(providers: number, options: CircuitBreakerOptions, now: () => number) {
    if (!Number.isInteger(options.failureThreshold) || options.failureThreshold < 1) throw new RangeError('runGraph circuitBreaker.failureThreshold must be an integer >= 1');
    if (!(options.cooldownMs >= 0)) throw new RangeError('runGraph circuitBreaker.cooldownMs must be >= 0');
    this.#failures = new Int32Array(providers);
    this.#openUntil = new Float64Array(providers);
    this.#threshold = options.failureThreshold;
    this.#cooldownMs = options.cooldownMs;
    this.#now = now;
  }

  /** The time the circuit reopens for calls, if it is open now; otherwise -1. */
  openUntil(provider: number): number {
    const until = this.#openUntil[provider]!;
    return until > 0 && this.#now() < until ? until : -1;
  }

  success(provider: number): void {
    this.#failures[provider] = 0;
    this.#openUntil[provider] = 0;
  }

  failure(provider: number): void {
    const count = Math.min(this.#threshold, this.#failures[provider]! + 1);
    this.#failures[provider] = count;
    if (count >= this.#threshold) this.#openUntil[provider] = this.#now() + this.#cooldownMs;
  }
}
