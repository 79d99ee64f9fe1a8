/**
 * The scheduler's typed errors. Graph mistakes are configuration errors and throw before
 * anything runs (STYLE.md's first error tier); everything that happens during a run comes
 * back as data in `GraphResult.errors`, never as a rejection of `runGraph`.
 */

/** The graph cannot run: a cycle, a dependency out of range, a bad fallback or priority. */
export class GraphValidationError extends Error {
  override readonly name = 'GraphValidationError';
}

/** A node did not run because a node it depends on failed (transitively). */
export class DependencyFailedError extends Error {
  override readonly name = 'DependencyFailedError';
  constructor(
    readonly nodeId: number,
    readonly failedDependency: number,
  ) {
    super(`node ${nodeId} not run: its dependency ${failedDependency} failed`);
  }
}

/** The provider's circuit breaker is open: the node failed fast without calling the provider. */
export class CircuitOpenError extends Error {
  override readonly name = 'CircuitOpenError';
  constructor(
    readonly provider: string,
    readonly retryAtMs: number,
  ) {
    super(`circuit open for provider ${provider}; calls resume after cooldown`);
  }
}

/** The run's `timeoutMs` elapsed; in-flight nodes see it as their signal's `reason`. */
export class GraphTimeoutError extends Error {
  override readonly name = 'TimeoutError';
  constructor(readonly timeoutMs: number) {
    super(`graph run timed out after ${timeoutMs}ms`);
  }
}

/** The caller's signal aborted the run. Named like a DOM abort so `err.name === 'AbortError'` checks work. */
export class GraphCancelledError extends Error {
  override readonly name = 'AbortError';
  constructor(cause: unknown) {
    super('graph run cancelled', { cause });
  }
}
