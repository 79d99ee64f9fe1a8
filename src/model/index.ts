export { OUTCOMES, RETRY_REASONS, BUDGET_LIMITS, isOutcome, isRetryReason } from './outcome.js';
export type { Outcome, RetryReason, BudgetLimit, ExecMode } from './outcome.js';
export type {
  Attributes,
  RunMeta,
  RunStarted,
  RunFinished,
  StepStarted,
  StepFinished,
  LlmCall,
  ToolCall,
  Retry,
  TokensRecorded,
  FlowEvent,
  FlowEventKind,
} from './events.js';
export { RUN_EVENT_LOG_TYPE, runEventToLogRecord } from './run-event.js';
export type { RunEvent } from './run-event.js';
export { invalidNonNegative, invalidTokenCount, invalidCost, jsonAttributes, capName, MAX_NAME_LENGTH, MAX_TOKENS_PER_CALL, MAX_COST_PER_CALL_USD, UNSERIALIZABLE } from './values.js';
export { flowEventSchema, runEventSchema, checkFlowEvent } from './event-schema.js';
export type { InvalidValueReason } from './values.js';
export {
  sanitizeLabelValue,
  redactLabelValue,
  labelNameProblem,
  FORBIDDEN_LABEL_NAMES,
  REDACTION_KINDS,
  LABEL_VALUE_MAX_LENGTH,
  UNKNOWN_LABEL_VALUE,
} from './labels.js';
export type { RedactionKind } from './labels.js';
