import type { Dialect } from './upstreams.js';

/** The endpoints whose calls are metered; every other path passes through unmetered. */
export type Endpoint = 'chat_completions' | 'responses' | 'embeddings' | 'messages';

/**
 * Matched on the end of the path, so base paths and Azure-style deployment paths
 * (`/openai/deployments/<d>/chat/completions?api-version=…`) are recognised too.
 */
export function endpointOf(method: string, path: string, dialect: Dialect): Endpoint | null {
  if (method !== 'POST') return null;
  const q = path.indexOf('?');
  const p = (q === -1 ? path : path.slice(0, q)).replace(/\/+$/, '');
  if (dialect === 'anthropic') return p.endsWith('/messages') ? 'messages' : null;
  if (p.endsWith('/chat/completions')) return 'chat_completions';
  if (p.endsWith('/responses')) return 'responses';
  if (p.endsWith('/embeddings')) return 'embeddings';
  // An OpenAI-compatible router in front of Anthropic models (OpenRouter, LiteLLM) may serve Messages too.
  if (p.endsWith('/messages')) return 'messages';
  return null;
}

/** The provider name recorded on a call: the upstream's name (`openai`, `anthropic`, `vllm`, …). */
export function providerOf(upstreamName: string): string {
  return upstreamName;
}

/**
 * An error the proxy itself answers with, in the shape the upstream's own errors take,
 * so an SDK raises its usual error class: OpenAI `{error:{message,type,param,code}}`,
 * Anthropic `{type:"error",error:{type,message}}`.
 */
export function providerError(dialect: Dialect, status: number, message: string): string {
  if (dialect === 'anthropic') {
    return JSON.stringify({ type: 'error', error: { type: ANTHROPIC_TYPES[status] ?? 'api_error', message } });
  }
  return JSON.stringify({ error: { message, type: OPENAI_TYPES[status] ?? 'server_error', param: null, code: OPENAI_CODES[status] ?? null } });
}

const ANTHROPIC_TYPES: Readonly<Record<number, string>> = {
  401: 'authentication_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  502: 'api_error',
};

const OPENAI_TYPES: Readonly<Record<number, string>> = {
  401: 'invalid_request_error',
  404: 'invalid_request_error',
  413: 'invalid_request_error',
  429: 'insufficient_quota',
  502: 'server_error',
};

const OPENAI_CODES: Readonly<Record<number, string>> = {
  401: 'invalid_api_key',
  413: 'request_too_large',
  429: 'budget_exceeded',
  502: 'upstream_unreachable',
};
