/**
 * Terminal states of a run, as enzu defines them (`enzu.models.Outcome`).
 * Dashboards and alerts built on enzu's `enzu_runs_total{outcome}` keep working
 * because the values are the same strings.
 */
export const OUTCOMES = [
  'success',
  'budget_exceeded',
  'timeout',
  'cancelled',
  'tool_error',
  'provider_error',
  'invalid_request',
  'verification_failed',
] as const;

export type Outcome = (typeof OUTCOMES)[number];

export function isOutcome(value: unknown): value is Outcome {
  return typeof value === 'string' && (OUTCOMES as readonly string[]).includes(value);
}

/** Why a call was retried; enzu's reason set (`enzu.retries`). */
export const RETRY_REASONS = ['rate_limit', 'timeout', 'server_error', 'connection_error', 'unknown'] as const;

export type RetryReason = (typeof RETRY_REASONS)[number];

export function isRetryReason(value: unknown): value is RetryReason {
  return typeof value === 'string' && (RETRY_REASONS as readonly string[]).includes(value);
}

/** Names put in `limits_exceeded`, in enzu's `max_*` style. */
export const BUDGET_LIMITS = ['max_tokens', 'max_cost_usd', 'max_seconds'] as const;

export type BudgetLimit = (typeof BUDGET_LIMITS)[number];

/** ARX's exec_mode label values. */
export type ExecMode = 'dry_run' | 'live';
