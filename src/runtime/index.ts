/**
 * `flowmeter/runtime`: the workflow runtime as a library — compile AIS to a plan, validate
 * it, and run it as measured SDK runs with your own meter, provider, tools and memory; the
 * same pieces `flowmeter run` is built from. Every export is named here.
 */
export { compileSource, formatDiagnostic, formatDiagnostics } from './ais/index.js';
export type { CompileResult, Diagnostic, Severity } from './ais/index.js';
export { compilePlan, emitPlan, loadOrCompile, optimize, parsePlan, serializePlan, validatePlan, verifyPlanHash, PLAN_FORMAT, PlanFormatError } from './ir/index.js';
export type { EmitFormat, IrFlow, IrNode, OptLevel, Plan, PlanCompileResult, PlanIssue, LoadOrCompileOptions, LoadOrCompileResult } from './ir/index.js';
export { runWorkflow, apxmMetrics, LlmCallCollector, WorkflowNodeError, NoCaseMatchedError } from './execute/index.js';
export type { WorkflowOptions, WorkflowRun, ApxmMetrics } from './execute/index.js';
export { runGraph, warmUpScheduler, DEFAULT_RETRY, DEFAULT_CIRCUIT_BREAKER, SchedulerClock, GraphValidationError, DependencyFailedError, CircuitOpenError, GraphTimeoutError, GraphCancelledError } from './scheduler/index.js';
export type { TaskGraph, TaskNode, TaskContext, GraphResult, RunGraphOptions, SchedulerMetrics, OverheadBreakdown, RetryOptions, CircuitBreakerOptions } from './scheduler/index.js';
export { createProvider, SimulatedProvider, OpenAIProvider, AnthropicProvider, ProviderError, ProviderConfigError } from './providers/index.js';
export type { Provider, ProviderName, ProviderOptions, CompletionRequest, CompletionResult, CompletionUsage, ChatMessage } from './providers/index.js';
export { ToolRegistry, createToolRegistry, loadToolModule, loadRuntimeConfig, httpRequestTool, searchTool, ToolConfigError, ToolError, ToolInputError, RuntimeConfigError } from './tools/index.js';
export type { Tool, ToolContext, ToolLookup, RuntimeConfig } from './tools/index.js';
export { LongTermMemory, createRunMemory } from './memory/index.js';
export type { RunMemory } from './memory/index.js';
