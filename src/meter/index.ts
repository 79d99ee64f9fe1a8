export { Meter, createMeter } from './meter.js';
export type { RunInit, RunResult } from './meter.js';
export type { MeterOptions, LogOptions, RunDefaults } from './options.js';
export type { Run, RunFinish, LlmCallMeta, LlmCallContext, StepMeta, StepTimer } from './run.js';
export type { Budget } from './run-state.js';
export type { DiagnosticsSnapshot, WarningHandler } from './diagnostics.js';
export { BudgetExceededError, RunTimeoutError, RunOutcomeError, RunCancelledError, MeterConfigError, errorType } from './errors.js';
export { openAiUsage, anthropicUsage, autoUsage } from './usage.js';
export type { Usage, UsageExtractor, UsageOption } from './usage.js';
