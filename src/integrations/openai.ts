import { meteringFetch } from './metering-fetch.js';
import type { ObserveOptions } from './metering-fetch.js';

export { defaultMeter } from './metering-fetch.js';
export type { ObserveOptions } from './metering-fetch.js';

/** The part of an `openai` client this wraps: the `fetch` every request goes through. */
interface FetchingClient {
  fetch?: unknown;
}

/**
 * Measures every `chat.completions.create` (streamed and not), `responses.create`
 * (streamed and not) and `embeddings.create` of an official `openai` client, inside the
 * current `meter.run` or as a run of its own outside one: usage, cached tokens, cost, time
 * to first content token, errors and the client's own retries. Streams reach your code
 * unchanged and unbuffered. Returns the same client.
 *
 * ```ts
 * const openai = observeOpenAI(new OpenAI(), { meter });
 * ```
 */
export function observeOpenAI<C extends object>(client: C, options: ObserveOptions = {}): C {
  return observe(client, 'openai', options);
}

export function observe<C extends object>(client: C, dialect: 'openai' | 'anthropic', options: ObserveOptions): C {
  const target = client as FetchingClient;
  if (typeof target.fetch !== 'function') throw new TypeError(`expected an ${dialect === 'openai' ? 'openai' : '@anthropic-ai/sdk'} client (an object with its fetch function)`);
  const base = target.fetch as (input: string | URL | Request, init?: RequestInit) => Promise<Response>;
  if ((base as { [OBSERVED]?: true })[OBSERVED] === true) return client;
  const wrapped = Object.assign(meteringFetch(base, dialect, options), { [OBSERVED]: true as const });
  target.fetch = wrapped;
  return client;
}

const OBSERVED = Symbol.for('flowmeter.observed');
