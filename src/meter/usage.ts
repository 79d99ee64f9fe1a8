/**
 * Token usage (and, when the provider reports it, cost) of one LLM call.
 * `inputTokens` counts every input token, cached ones included (OpenAI's
 * `prompt_tokens` convention); `cachedInputTokens` and `cacheWriteTokens` are subsets.
 */
export interface Usage {
  readonly inputTokens?: number;
  readonly outputTokens?: number;
  readonly totalTokens?: number;
  readonly cachedInputTokens?: number;
  readonly cacheWriteTokens?: number;
  /** Cost the provider itself reported (OpenRouter's `usage.cost`); wins over the price table. */
  readonly costUsd?: number;
}

/** Maps a provider response to usage; returns undefined when the response carries none. */
export type UsageExtractor = (response: unknown) => Usage | undefined;

type Obj = Readonly<Record<string, unknown>>;

function obj(value: unknown): Obj | undefined {
  return typeof value === 'object' && value !== null ? (value as Obj) : undefined;
}

function num(value: unknown): number | undefined {
  return typeof value === 'number' ? value : undefined;
}

/**
 * OpenAI Chat Completions / Responses shape: `usage.prompt_tokens`, `completion_tokens`,
 * `total_tokens`, `prompt_tokens_details.cached_tokens` (Responses API: `input_tokens`,
 * `output_tokens`, `input_tokens_details.cached_tokens`); OpenRouter adds `usage.cost`.
 */
export const openAiUsage: UsageExtractor = (response) => {
  const usage = obj(obj(response)?.usage);
  return usage ? openAiFields(usage) : undefined;
};

function openAiFields(usage: Obj): Usage | undefined {
  const input = num(usage.prompt_tokens) ?? num(usage.input_tokens);
  const output = num(usage.completion_tokens) ?? num(usage.output_tokens);
  if (input === undefined && output === undefined) return undefined;
  const details = obj(usage.prompt_tokens_details) ?? obj(usage.input_tokens_details);
  return {
    inputTokens: input,
    outputTokens: output,
    totalTokens: num(usage.total_tokens),
    cachedInputTokens: num(details?.cached_tokens),
    costUsd: num(usage.cost),
  };
}

/**
 * Anthropic Messages shape: `usage.input_tokens` excludes cache reads and writes, which
 * come as `cache_read_input_tokens` and `cache_creation_input_tokens`; we fold them in
 * so `inputTokens` means the same thing for every provider.
 */
export const anthropicUsage: UsageExtractor = (response) => {
  const usage = obj(obj(response)?.usage);
  return usage ? anthropicFields(usage) : undefined;
};

function anthropicFields(usage: Obj): Usage | undefined {
  const uncached = num(usage.input_tokens);
  const output = num(usage.output_tokens);
  if (uncached === undefined && output === undefined) return undefined;
  const cacheRead = num(usage.cache_read_input_tokens);
  const cacheWrite = num(usage.cache_creation_input_tokens);
  const input = uncached === undefined ? undefined : uncached + (cacheRead ?? 0) + (cacheWrite ?? 0);
  return { inputTokens: input, outputTokens: output, cachedInputTokens: cacheRead, cacheWriteTokens: cacheWrite };
}

/** Recognises either shape by its field names. */
export const autoUsage: UsageExtractor = (response) => {
  const usage = obj(obj(response)?.usage);
  if (!usage) return undefined;
  if ('prompt_tokens' in usage || 'completion_tokens' in usage || 'input_tokens_details' in usage) return openAiFields(usage);
  if ('cache_read_input_tokens' in usage || 'cache_creation_input_tokens' in usage) return anthropicFields(usage);
  // Responses API and Messages API both say input_tokens/output_tokens; with no cache
  // fields they mean the same thing.
  return openAiFields(usage);
};

export type UsageOption = 'auto' | 'openai' | 'anthropic' | 'none' | UsageExtractor;

export function usageExtractor(option: UsageOption | undefined): UsageExtractor | null {
  switch (option) {
    case undefined:
    case 'auto':
      return autoUsage;
    case 'openai':
      return openAiUsage;
    case 'anthropic':
      return anthropicUsage;
    case 'none':
      return null;
    default:
      return option;
  }
}
