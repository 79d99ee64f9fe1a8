import type { BudgetLimit, Outcome } from '../model/index.js';

/**
 * Thrown into a run (through `run.signal` and by the next `llmCall`) when a budget the
 * user set is exhausted. Budgets are controls the user asked for, so unlike measurement
 * failures they do reach user code — the way enzu ends a run with BUDGET_EXCEEDED.
 */
export class BudgetExceededError extends Error {
  override readonly name = 'BudgetExceededError';
  constructor(
    readonly limit: BudgetLimit,
    readonly used: number,
    readonly allowed: number,
  ) {
    super(`run budget exceeded: ${limit} used ${used}, allowed ${allowed}`);
  }
}

/** The run took longer than `budget.timeoutMs`. */
export class RunTimeoutError extends Error {
  override readonly name = 'RunTimeoutError';
  constructor(readonly timeoutMs: number) {
    super(`run timed out after ${timeoutMs}ms`);
  }
}

/** The run was cancelled through the signal given to `meter.run`. Named like a DOM abort. */
export class RunCancelledError extends Error {
  override readonly name = 'AbortError';
  constructor(cause: unknown) {
    super('run cancelled', { cause });
  }
}

/** Throw this from a run to end it with a specific outcome, e.g. `verification_failed`. */
export class RunOutcomeError extends Error {
  override readonly name = 'RunOutcomeError';
  constructor(
    readonly outcome: Outcome,
    message?: string,
  ) {
    super(message ?? outcome);
  }
}

/** A mistake in the options given to `createMeter`; thrown at construction. */
export class MeterConfigError extends Error {
  override readonly name = 'MeterConfigError';
}

/** Where a failure surfaced, so an error escaping the run can be classified. */
export type FailureSource = 'llm' | 'tool';

interface ErrorLike {
  readonly name?: unknown;
  readonly code?: unknown;
  readonly cause?: unknown;
  readonly status?: unknown;
  readonly statusCode?: unknown;
  readonly response?: { readonly status?: unknown };
}

function statusOf(err: ErrorLike): number | null {
  const status = err.status ?? err.statusCode ?? err.response?.status;
  return typeof status === 'number' ? status : null;
}

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', 'EHOSTUNREACH', 'UND_ERR_SOCKET']);
const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'ESOCKETTIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT']);

/**
 * A short, low-cardinality class for an error: enzu's retry reasons for transport
 * failures (`rate_limit`, `timeout`, `server_error`, `connection_error`),
 * `invalid_request` for a 4xx, else the error's class name.
 */
export function errorType(err: unknown): string {
  if (typeof err !== 'object' || err === null) return typeof err === 'string' ? 'Error' : typeof err;
  return transportClass(err, 0) ?? nameOf(err);
}

/** SDK error classes that carry no status or code (OpenAI's and Anthropic's SDKs). */
const NAMED: Readonly<Record<string, string>> = {
  APIConnectionError: 'connection_error',
  APIConnectionTimeoutError: 'timeout',
  TimeoutError: 'timeout',
  RateLimitError: 'rate_limit',
};

/**
 * Looks through `cause` links too: Node's fetch throws `TypeError: fetch failed` with the
 * socket error (`ECONNRESET`) as its cause, and SDKs wrap errors the same way.
 */
function transportClass(e: ErrorLike, depth: number): string | null {
  const status = statusOf(e);
  if (status === 429) return 'rate_limit';
  if (status === 408) return 'timeout';
  if (status !== null && status >= 500) return 'server_error';
  if (status !== null && status >= 400) return 'invalid_request';
  if (typeof e.code === 'string') {
    if (CONNECTION_CODES.has(e.code)) return 'connection_error';
    if (TIMEOUT_CODES.has(e.code)) return 'timeout';
  }
  if (typeof e.name === 'string' && NAMED[e.name] !== undefined) return NAMED[e.name] ?? null;
  const cause = e.cause;
  if (depth < 4 && typeof cause === 'object' && cause !== null) return transportClass(cause, depth + 1);
  return null;
}

function nameOf(e: ErrorLike): string {
  return typeof e.name === 'string' && e.name.length > 0 ? e.name : 'Error';
}

/** Maps an error that ended a run to one of enzu's outcomes. */
export function outcomeOfError(err: unknown, source: FailureSource | null): Outcome {
  if (err instanceof RunOutcomeError) return err.outcome;
  if (err instanceof BudgetExceededError) return 'budget_exceeded';
  if (err instanceof RunTimeoutError) return 'timeout';
  const name = typeof err === 'object' && err !== null ? (err as ErrorLike).name : undefined;
  if (name === 'AbortError') return 'cancelled';
  if (source === 'llm') return errorType(err) === 'invalid_request' ? 'invalid_request' : 'provider_error';
  // A tool or the agent's own code failed: enzu has no separate "error" outcome, and
  // the agent's code is the outermost tool of the run.
  return 'tool_error';
}
