// The public entry: every export is named here (no `export *`), so the API is one read.

// SDK
export {
  Meter,
  createMeter,
  BudgetExceededError,
  RunTimeoutError,
  RunOutcomeError,
  RunCancelledError,
  MeterConfigError,
  errorType,
  openAiUsage,
  anthropicUsage,
  autoUsage,
} from './meter/index.js';
export type {
  RunInit,
  RunResult,
  MeterOptions,
  LogOptions,
  RunDefaults,
  Run,
  RunFinish,
  LlmCallMeta,
  LlmCallContext,
  StepMeta,
  StepTimer,
  Budget,
  DiagnosticsSnapshot,
  WarningHandler,
  Usage,
  UsageExtractor,
  UsageOption,
} from './meter/index.js';

// Event model
export { OUTCOMES, RETRY_REASONS, BUDGET_LIMITS, isOutcome, isRetryReason, RUN_EVENT_LOG_TYPE, runEventToLogRecord } from './model/index.js';
export type {
  Outcome,
  RetryReason,
  BudgetLimit,
  ExecMode,
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
  RunEvent,
} from './model/index.js';

// Sinks (the three visibility tiers)
export { InMemorySink, JsonlSink, EventLogSink, LogSink, SummarySink, formatSummary, formatDurationMs } from './sinks/index.js';
export type { Sink, JsonlSinkOptions, EventLogSinkOptions, LogSinkOptions, LogFormat, LogDestination } from './sinks/index.js';

// Pricing
export { PriceBook, PricingConfigError, DEFAULT_PRICES, PRICES_AS_OF, resolveCost } from './pricing/index.js';
export type { ModelPrice, PriceBookOptions, TokenUsage, ResolvedCost } from './pricing/index.js';

// Statistics
export { RunStats, QuantileSketch, fScore, formatSnapshotTable, parseRule, measure, holds, RuleError } from './stats/index.js';
export type { RunSnapshot, Percentiles, MetricDistribution, RunStatsJSON, FScore, ClassificationPair, Rule, RuleSubject } from './stats/index.js';

// The store itself is the `flowmeter/store` subpath; the meter's setting and writer counts are here.
export { StoreSink } from './sinks/store.js';
export type { StoreSinkOptions, StoreSinkStats } from './sinks/store.js';
export type { StoreSetting, StoreLocation } from './store/open.js';
