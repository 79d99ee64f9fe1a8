export { runWorkflow } from './workflow.js';
export type { WorkflowOptions, WorkflowRun } from './workflow.js';
export { apxmMetrics, llmSection, overheadRatioPct, nearestRank } from './emit-metrics.js';
export type { ApxmMetrics, LinkPhases, LlmSection, EmitInput } from './emit-metrics.js';
export { LlmCallCollector } from './llm-call-collector.js';
export type { LlmCallTiming } from './llm-call-collector.js';
export { WorkflowNodeError } from './run-flow.js';
export { NoCaseMatchedError, ToolPayloadError, UnknownToolError, caseKey } from './flow-graph.js';
export { llmMessages, fusedMessages, renderArg, OP_INSTRUCTIONS, FUSED_INSTRUCTION } from './prompt.js';
