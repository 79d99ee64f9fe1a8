import { z } from 'zod';
import type { FlowEvent } from './events.js';
import { BUDGET_LIMITS, OUTCOMES, RETRY_REASONS } from './outcome.js';
import { MAX_COST_PER_CALL_USD, MAX_NAME_LENGTH, MAX_TOKENS_PER_CALL } from './values.js';

/**
 * The event model as a schema, for events that come from outside this process (a tailed
 * events.jsonl, an NDJSON ingest): what the meter writes passes, and a line that would
 * put `"undefined"` or `[object Object]` in a label, a 1e300 token counter or a negative
 * duration into a metric does not. The bounds are the meter's own (values.ts).
 */

/** A name that becomes a label value: a string of bounded length (the meter caps its own, values.ts). */
const name = z.string().max(MAX_NAME_LENGTH);
const optName = name.nullable();
/** Free text such as an error message: bounded, but longer than a name. */
const text = z.string().max(8 * MAX_NAME_LENGTH).nullable();
const ts = z.string().max(64);
const ms = z.number().finite().nonnegative();
const count = z.number().finite().nonnegative().max(MAX_TOKENS_PER_CALL);
const tokens = count.nullable();
const cost = z.number().finite().nonnegative().max(MAX_COST_PER_CALL_USD).nullable();
/** A run's totals sum many calls; finite is the bound that matters. */
const total = z.number().finite().nonnegative().nullable();
const execMode = z.enum(['dry_run', 'live']);
/** Free-form and never a label; only its shape is checked. */
const attributes = z.record(z.unknown());

const ids = { run_id: name, flow_id: name, agent: name };

const runMeta = z.object({
  run_id: name,
  flow_id: name,
  task_id: optName,
  agent: name,
  exec_mode: execMode,
  branch: name,
  app_id: name.optional(),
  session_id: name.optional(),
  user_id: name.optional(),
  parent_run_id: name.optional(),
  trace_id: name.optional(),
  otel_parent_span_id: name.optional(),
  attributes,
});

export const runEventSchema = z.object({
  run_id: name,
  task_id: optName,
  flow_id: name,
  agent: name,
  exec_mode: execMode,
  branch: name,
  provider: optName,
  model: optName,
  outcome: z.enum(OUTCOMES),
  success: z.boolean(),
  partial: z.boolean(),
  started_at: ts,
  finished_at: ts,
  elapsed_seconds: ms,
  input_tokens: total,
  output_tokens: total,
  total_tokens: total,
  cached_input_tokens: total,
  cost_usd: total,
  limits_exceeded: z.array(z.enum(BUDGET_LIMITS)),
  retries: ms,
  retries_by_reason: z.record(z.enum(RETRY_REASONS), ms),
  retry_backoff_seconds: ms,
  budget_exceeded_during_retry: z.boolean(),
  llm_calls: ms,
  tool_calls: ms,
  steps: ms,
  error_type: text,
  app_id: optName,
  session_id: optName,
  user_id: optName,
  parent_run_id: optName.optional(),
  trace_id: optName.optional(),
  child_runs: ms.optional(),
  tree_cost_usd: total.optional(),
  tree_total_tokens: total.optional(),
  attributes,
});

export const flowEventSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('run_started'), run: runMeta, ts }),
  z.object({ kind: z.literal('run_finished'), run: runMeta, ts, event: runEventSchema, summary: z.string().max(8 * MAX_NAME_LENGTH) }),
  z.object({ kind: z.literal('step_started'), ...ids, step_id: name, model: optName, ts }),
  z.object({
    kind: z.literal('step_finished'),
    ...ids,
    step_id: name,
    model: optName,
    exec_mode: execMode,
    start_ts: ts,
    end_ts: ts,
    duration_ms: ms,
    success: z.boolean(),
    error: text,
  }),
  z.object({
    kind: z.literal('llm_call'),
    ...ids,
    step_id: optName,
    provider: name,
    model: name,
    phase: name,
    start_ts: ts,
    end_ts: ts,
    duration_ms: ms,
    ttft_ms: ms.nullable(),
    input_tokens: tokens,
    output_tokens: tokens,
    total_tokens: tokens,
    cached_input_tokens: tokens,
    cost_usd: cost,
    cost_source: z.enum(['provider', 'price_table']).nullable(),
    streaming: z.boolean(),
    cache_hit: z.boolean(),
    error_type: text,
  }),
  z.object({
    kind: z.literal('tool_call'),
    ...ids,
    step_id: optName,
    tool: name,
    start_ts: ts,
    end_ts: ts,
    duration_ms: ms,
    success: z.boolean(),
    error: text,
  }),
  z.object({
    kind: z.literal('retry'),
    ...ids,
    step_id: optName,
    reason: z.enum(RETRY_REASONS),
    attempt: ms,
    backoff_seconds: ms,
    ts,
  }),
  z.object({
    kind: z.literal('tokens'),
    ...ids,
    step_id: optName,
    model: name,
    direction: z.enum(['in', 'out']),
    count,
    cost_usd: cost,
    ts,
  }),
]);

/**
 * `value` as a FlowEvent when it is one, else undefined. Keys the schema does not name
 * are kept out (zod strips them), so a line cannot smuggle extra fields downstream. A
 * `cost_source` without a `cost_usd` is not an event the meter writes either.
 */
export function checkFlowEvent(value: unknown): FlowEvent | undefined {
  const result = flowEventSchema.safeParse(value);
  if (!result.success) return undefined;
  const event = result.data;
  if (event.kind === 'llm_call' && event.cost_source !== null && event.cost_usd === null) return undefined;
  return event as FlowEvent;
}
