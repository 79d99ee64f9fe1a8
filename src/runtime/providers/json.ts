/** Reading the untyped JSON that providers send, without `any`. */
import { ProviderError } from './provider.js';

export type Json = Readonly<Record<string, unknown>>;

export function obj(value: unknown): Json | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : undefined;
}

export function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export function parseObject(text: string): Json | undefined {
  try {
    return obj(JSON.parse(text));
  } catch {
    return undefined;
  }
}

/** Parses a response body or one SSE `data` payload; anything but an object is a protocol error. */
export function parseJson(provider: string, text: string): Json {
  const value = parseObject(text);
  if (value === undefined) throw new ProviderError(`${provider} sent a malformed JSON payload: ${text.slice(0, 200)}`, undefined, undefined, 'bad_response');
  return value;
}
