/** Picks and builds a provider by name, as the CLI's `--provider` and `--dry-run` ask. */
import type { AnthropicProviderOptions } from './anthropic.js';
import { AnthropicProvider } from './anthropic.js';
import type { OpenAIProviderOptions } from './openai.js';
import { OpenAIProvider } from './openai.js';
import type { Provider, ProviderEnv } from './provider.js';
import { ProviderConfigError } from './provider.js';
import type { SimulatedProviderOptions } from './simulated.js';
import { SimulatedProvider } from './simulated.js';

export type ProviderName = 'simulated' | 'openai' | 'anthropic';

export const PROVIDER_NAMES: readonly ProviderName[] = ['simulated', 'openai', 'anthropic'];

/** Options of every provider; each reads only its own (`timeoutMs` means the same to all). */
export type ProviderOptions = SimulatedProviderOptions & OpenAIProviderOptions & AnthropicProviderOptions;

export function isProviderName(name: string): name is ProviderName {
  return (PROVIDER_NAMES as readonly string[]).includes(name);
}

/**
 * Throws `ProviderConfigError` for an unknown name or a missing API key, at construction
 * (STYLE 6), so a misconfigured run stops before its first step.
 */
export function createProvider(name: ProviderName, options: ProviderOptions = {}, env: ProviderEnv = process.env): Provider {
  switch (name) {
    case 'simulated':
      return new SimulatedProvider(options);
    case 'openai':
      return new OpenAIProvider(options, env);
    case 'anthropic':
      return new AnthropicProvider(options, env);
    default: {
      // Reachable from JavaScript and from unchecked CLI input.
      const unknown: never = name;
      throw new ProviderConfigError(`unknown provider "${String(unknown)}"; use one of ${PROVIDER_NAMES.join(', ')}`);
    }
  }
}

/**
 * The provider a run uses when none is named: `simulated` under --dry-run or when no API
 * key is set, else the one whose key is set (OpenAI first).
 */
export function defaultProviderName(dryRun: boolean, env: ProviderEnv = process.env): ProviderName {
  if (dryRun) return 'simulated';
  if (env.OPENAI_API_KEY) return 'openai';
  if (env.ANTHROPIC_API_KEY) return 'anthropic';
  return 'simulated';
}
