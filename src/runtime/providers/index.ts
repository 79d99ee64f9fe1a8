/** The runtime's model providers: one interface, a simulated one, and two wire formats. */
export type { ChatMessage, CompletionRequest, CompletionResult, CompletionUsage, Provider, ProviderEnv } from './provider.js';
export { ProviderAbortError, ProviderConfigError, ProviderError } from './provider.js';
export type { SimulatedModelProfile, SimulatedProviderOptions } from './simulated.js';
export { DEFAULT_SIMULATED_PROFILE, SIMULATED_PROFILES, SimulatedProvider, estimateTokens } from './simulated.js';
export type { OpenAIProviderOptions } from './openai.js';
export { OPENAI_BASE_URL, OpenAIProvider } from './openai.js';
export type { AnthropicProviderOptions } from './anthropic.js';
export { ANTHROPIC_BASE_URL, ANTHROPIC_VERSION, AnthropicProvider } from './anthropic.js';
export type { ProviderName, ProviderOptions } from './create.js';
export { PROVIDER_NAMES, createProvider, defaultProviderName, isProviderName } from './create.js';
export type { SseEvent } from './sse.js';
export { SseParser, readSse } from './sse.js';
export { retryAfterSeconds } from './transport.js';
