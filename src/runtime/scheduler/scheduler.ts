/**
 * `runGraph`: run a task graph as dataflow — see engine.ts for the loop and metrics.ts for
 * what each `--emit-metrics` scheduler field measures.
 */
import { CircuitBreakers } from './circuit-breaker.js';
import type { CircuitBreakerOptions } from './circuit-breaker.js';
import { GraphRun } from './engine.js';
import type { GraphResult } from './engine.js';
import { GraphCancelledError, GraphTimeoutError } from './errors.js';
import { compileGraph } from './graph.js';
import type { TaskGraph, TaskNode } from './graph.js';
import type { SchedulerClock } from './metrics.js';
import { validateRetry } from './retry.js';
import type { RetryOptions } from './retry.js';
import type { RetryReason } from '../../model/outcome.js';

export interface RunGraphOptions {
  /** Most nodes in flight at once. Default: unlimited. */
  readonly concurrency?: number;
  /** Most nodes in flight per provider (`TaskNode.provider`). Providers not named are unlimited. */
  readonly perProvider?: Readonly<Record<string, number>>;
  /** Aborts the run after this many ms: in-flight nodes' signals abort with a GraphTimeoutError. */
  readonly timeoutMs?: number;
  /** Cancels the run when aborted: in-flight nodes' signals abort with a GraphCancelledError. */
  readonly signal?: AbortSignal;
  /** Retries for errors `classify` calls retryable. Default: no retries. */
  readonly retry?: RetryOptions;
  /** Called before each retry is scheduled; the runtime records it through the SDK (`run.retry(reason, backoffSeconds)`). */
  readonly onRetry?: (node: TaskNode, reason: RetryReason, attempt: number, backoffSeconds: number) => void;
  readonly circuitBreaker?: CircuitBreakerOptions;
  /** Clock (ms) for the circuit breaker's cooldown; tests inject a fake. Default `Date.now`. */
  readonly now?: () => number;
  /** Source of jitter in 0..1; tests inject a constant. Default `Math.random`. */
  readonly random?: () => number;
  /**
   * Accounting to share with an enclosing run: a `container` node's nested graph passes its
   * parent's clock so phase times, operation counts and parallelism cover both. Default: a new one.
   */
  readonly clock?: SchedulerClock;
}

function positiveLimit(value: number, what: string): number {
  if (!(value >= 1) || (!Number.isInteger(value) && value !== Number.POSITIVE_INFINITY)) throw new RangeError(`runGraph ${what} must be an integer >= 1 (or Infinity), got ${String(value)}`);
  return value;
}

/**
 * Runs `graph`. Throws GraphValidationError (cycle, dependency out of range, bad fallback)
 * or RangeError (bad option) synchronously, before anything runs; after that it never
 * rejects: node failures, timeouts and cancellation come back in the GraphResult.
 */
export function runGraph(graph: TaskGraph, options: RunGraphOptions = {}): Promise<GraphResult> {
  const compiled = compileGraph(graph);
  const concurrency = positiveLimit(options.concurrency ?? Number.POSITIVE_INFINITY, 'concurrency');
  const providerLimit = new Float64Array(compiled.providers.length).fill(Number.POSITIVE_INFINITY);
  for (const [name, limit] of Object.entries(options.perProvider ?? {})) {
    positiveLimit(limit, `perProvider.${name}`);
    const p = compiled.providers.indexOf(name);
    if (p >= 0) providerLimit[p] = limit;
  }
  if (options.retry !== undefined) validateRetry(options.retry);
  const timeoutMs = options.timeoutMs;
  if (timeoutMs !== undefined && !(timeoutMs >= 0)) throw new RangeError(`runGraph timeoutMs must be >= 0, got ${String(timeoutMs)}`);
  const breakers = options.circuitBreaker === undefined ? undefined : new CircuitBreakers(compiled.providers.length, options.circuitBreaker, options.now ?? Date.now);

  return new Promise<GraphResult>((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const signal = options.signal;
    const onCancel = (): void => run.abort(new GraphCancelledError(signal?.reason));
    const run = new GraphRun(compiled, { concurrency, providerLimit, retry: options.retry, onRetry: options.onRetry, breakers, random: options.random ?? Math.random, clock: options.clock }, (result) => {
      // Leak free: the timer and the listener on the caller's signal go when the run ends.
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener('abort', onCancel);
      resolve(result);
    });
    if (signal?.aborted === true) return onCancel();
    signal?.addEventListener('abort', onCancel, { once: true });
    if (timeoutMs !== undefined) timer = setTimeout(() => run.abort(new GraphTimeoutError(timeoutMs)), timeoutMs);
    run.start();
  });
}
