import { describe, expect, it } from 'vitest';
import type { ProviderName } from '../../../src/runtime/providers/index.js';
import {
  AnthropicProvider,
  OpenAIProvider,
  ProviderConfigError,
  SimulatedProvider,
  createProvider,
  defaultProviderName,
  isProviderName,
} from '../../../src/runtime/providers/index.js';

describe('createProvider', () => {
  it('builds each provider by name, reading keys from the environment', () => {
    expect(createProvider('simulated', {}, {})).toBeInstanceOf(SimulatedProvider);
    expect(createProvider('openai', {}, { OPENAI_API_KEY: 'sk' })).toBeInstanceOf(OpenAIProvider);
    expect(createProvider('anthropic', {}, { ANTHROPIC_API_KEY: 'sk-ant' })).toBeInstanceOf(AnthropicProvider);
    expect(createProvider('openai', { apiKey: 'sk' }, {}).name).toBe('openai');
  });

  it('says how to fix a missing API key', () => {
    expect(() => createProvider('openai', {}, {})).toThrow(new ProviderConfigError('OPENAI_API_KEY is not set; set it, pass --provider simulated, or use --dry-run'));
    expect(() => createProvider('anthropic', {}, { ANTHROPIC_API_KEY: '' })).toThrow(/^ANTHROPIC_API_KEY is not set; set it, pass --provider simulated, or use --dry-run$/);
  });

  it('names the valid providers when given an unknown one', () => {
    expect(() => createProvider('gemini' as ProviderName)).toThrow('unknown provider "gemini"; use one of simulated, openai, anthropic');
    expect(isProviderName('gemini')).toBe(false);
    expect(isProviderName('anthropic')).toBe(true);
  });

  it('refuses a timeout that is not a positive number', () => {
    expect(() => createProvider('openai', { apiKey: 'k', timeoutMs: 0 }, {})).toThrow(/timeoutMs must be a positive number/);
  });
});

describe('defaultProviderName', () => {
  it('is simulated under --dry-run or without keys, else the provider whose key is set', () => {
    expect(defaultProviderName(true, { OPENAI_API_KEY: 'sk' })).toBe('simulated');
    expect(defaultProviderName(false, {})).toBe('simulated');
    expect(defaultProviderName(false, { ANTHROPIC_API_KEY: 'a' })).toBe('anthropic');
    expect(defaultProviderName(false, { OPENAI_API_KEY: 'sk', ANTHROPIC_API_KEY: 'a' })).toBe('openai');
  });
});
