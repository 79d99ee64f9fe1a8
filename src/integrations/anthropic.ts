import type { ObserveOptions } from './metering-fetch.js';
import { observe } from './openai.js';

export { defaultMeter } from './metering-fetch.js';
export type { ObserveOptions } from './metering-fetch.js';

/**
 * Measures every `messages.create` (streamed and not) and `messages.stream` of an
 * `@anthropic-ai/sdk` client, inside the current `meter.run` or as a run of its own outside
 * one: usage with cache read and write tokens, cost, time to first content token, errors
 * (including an `error` event inside a 200 stream) and the client's own retries. Streams
 * reach your code unchanged and unbuffered. Returns the same client.
 *
 * ```ts
 * const anthropic = observeAnthropic(new Anthropic(), { meter });
 * ```
 */
export function observeAnthropic<C extends object>(client: C, options: ObserveOptions = {}): C {
  return observe(client, 'anthropic', options);
}
