/**
 * The OpenTelemetry GenAI semantic conventions the OTLP exporter follows: metric names,
 * units, attribute keys and the advised explicit bucket boundaries, as written in
 * `docs/gen-ai/gen-ai-metrics.md` of open-telemetry/semantic-conventions-genai (status:
 * Development). Each histogram's boundaries are the ones its own section advises; they
 * are not all the same list.
 */

/** [0.01 … 81.92] s, doubling: advised for operation.duration, time_to_first_chunk and execute_tool.duration. */
export const GEN_AI_DURATION_BUCKETS: readonly number[] = [
  0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
];

/** Powers of 4 from 1 to 4^13: advised for gen_ai.client.token.usage. */
export const GEN_AI_TOKEN_BUCKETS: readonly number[] = [
  1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
];

/** Advised for gen_ai.workflow.duration: a workflow runs from seconds to two hours. */
export const GEN_AI_WORKFLOW_BUCKETS: readonly number[] = [1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200];

/** [0.1 … 409.6] s, doubling: advised for gen_ai.invoke_agent.duration. */
export const GEN_AI_AGENT_BUCKETS: readonly number[] = [
  0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 12.8, 25.6, 51.2, 102.4, 204.8, 409.6,
];

/**
 * Not a semantic convention: cost has none yet. A 1-2.5-5 series from a hundredth of a
 * cent (one small call) to ten dollars (a long agent run).
 */
export const COST_BUCKETS: readonly number[] = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

export interface HistogramSpec {
  readonly name: string;
  readonly unit: string;
  readonly description: string;
  readonly boundaries: readonly number[];
  /** The semconv `metric_value_type`; token counts are integers. */
  readonly integer: boolean;
}

function spec(name: string, unit: string, boundaries: readonly number[], description: string, integer = false): HistogramSpec {
  return { name, unit, description, boundaries, integer };
}

/** Every histogram the exporter records, keyed by role. */
export const HISTOGRAMS = {
  tokenUsage: spec('gen_ai.client.token.usage', '{token}', GEN_AI_TOKEN_BUCKETS, 'Number of input and output tokens used.', true),
  operationDuration: spec('gen_ai.client.operation.duration', 's', GEN_AI_DURATION_BUCKETS, 'GenAI operation duration.'),
  timeToFirstChunk: spec(
    'gen_ai.client.operation.time_to_first_chunk',
    's',
    GEN_AI_DURATION_BUCKETS,
    'Time to receive the first chunk of a streamed response.',
  ),
  workflowDuration: spec('gen_ai.workflow.duration', 's', GEN_AI_WORKFLOW_BUCKETS, 'GenAI workflow duration.'),
  agentDuration: spec('gen_ai.invoke_agent.duration', 's', GEN_AI_AGENT_BUCKETS, 'End-to-end duration of a single agent invocation.'),
  toolDuration: spec('gen_ai.execute_tool.duration', 's', GEN_AI_DURATION_BUCKETS, 'The duration of a single tool execution.'),
  // There is no UCUM unit for money; the ISO 4217 code says what the number is.
  operationCost: spec('flowmeter.client.operation.cost', 'USD', COST_BUCKETS, 'Cost of one LLM call, when the provider or the price table knows it.'),
  runCost: spec('flowmeter.run.cost', 'USD', COST_BUCKETS, 'Cost of one finished run, when every call in it was priced.'),
} as const satisfies Record<string, HistogramSpec>;

export const ATTR = {
  operationName: 'gen_ai.operation.name',
  providerName: 'gen_ai.provider.name',
  requestModel: 'gen_ai.request.model',
  tokenType: 'gen_ai.token.type',
  errorType: 'error.type',
  workflowName: 'gen_ai.workflow.name',
  agentName: 'gen_ai.agent.name',
  toolName: 'gen_ai.tool.name',
} as const;

/** `chat` is the well-known gen_ai.operation.name for a chat-completion call. */
export const OPERATION_CHAT = 'chat';

/** error.type's well-known fallback when an operation failed without a class name. */
export const ERROR_OTHER = '_OTHER';

/**
 * gen_ai.provider.name has well-known values, and "if one of them applies, the respective
 * value MUST be used". Providers whose everyday name differs are mapped here; every other
 * name passes through.
 */
const WELL_KNOWN_PROVIDERS: Readonly<Record<string, string>> = {
  bedrock: 'aws.bedrock',
  'aws-bedrock': 'aws.bedrock',
  azure: 'azure.ai.openai',
  'azure-openai': 'azure.ai.openai',
  azure_openai: 'azure.ai.openai',
  gemini: 'gcp.gemini',
  google: 'gcp.gemini',
  vertex: 'gcp.vertex_ai',
  vertexai: 'gcp.vertex_ai',
  vertex_ai: 'gcp.vertex_ai',
  mistral: 'mistral_ai',
  mistralai: 'mistral_ai',
  moonshot: 'moonshot_ai',
  xai: 'x_ai',
  watsonx: 'ibm.watsonx.ai',
};

export function providerName(provider: string): string {
  const key = provider.trim().toLowerCase();
  return WELL_KNOWN_PROVIDERS[key] ?? key;
}

/**
 * Attribute values must stay low-cardinality: error.type "SHOULD match the error code ...
 * or another low-cardinality error identifier". A long value is almost surely a message,
 * not a class; it is cut so it cannot blow up the series count by length alone.
 */
export function boundedValue(value: string, max = 128): string {
  return value.length <= max ? value : value.slice(0, max);
}
