import { InMemorySink } from '../../src/sinks/index.js';
import { createMeter } from '../../src/meter/index.js';
import type { Meter, MeterOptions } from '../../src/meter/index.js';

/**
 * A price that makes cost arithmetic readable: $1 per input token, $2 per output token
 * (prices are per 1M tokens). Unknown to the built-in table, so only this meter knows it.
 */
export const PRICED_MODEL = 'flowmeter-test-model';
export const PRICES = { models: { [PRICED_MODEL]: { input: 1_000_000, output: 2_000_000 } } } as const;

/** A model no price table knows. */
export const UNPRICED_MODEL = 'mystery-llm';

export interface Warning {
  readonly message: string;
  readonly code: string;
}

export interface Harness {
  readonly meter: Meter;
  readonly sink: InMemorySink;
  readonly warnings: Warning[];
}

/** A meter that writes no files and no logs, records into memory and collects warnings. */
export function harness(options: MeterOptions = {}): Harness {
  const sink = new InMemorySink();
  const warnings: Warning[] = [];
  const meter = createMeter({
    runsDir: false,
    log: false,
    env: {},
    prices: PRICES,
    onWarning: (message, code) => warnings.push({ message, code }),
    ...options,
    sinks: [sink, ...(options.sinks ?? [])],
  });
  return { meter, sink, warnings };
}

/** An OpenAI Chat Completions response with usage. */
export function openAiResponse(prompt: number, completion: number, extra: Record<string, unknown> = {}): { choices: unknown[]; usage: Record<string, unknown> } {
  return {
    choices: [{ message: { role: 'assistant', content: 'ok' } }],
    usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion, ...extra },
  };
}

/** An Anthropic Messages response with usage. */
export function anthropicResponse(usage: Record<string, number>): { content: unknown[]; usage: Record<string, number> } {
  return { content: [{ type: 'text', text: 'ok' }], usage };
}

/** An error as provider SDKs throw them: `status` (HTTP) or `code` (transport). */
export function httpError(status: number, message = `HTTP ${status}`): Error & { status: number } {
  return Object.assign(new Error(message), { status });
}

export function codeError(code: string): Error & { code: string } {
  return Object.assign(new Error(`socket: ${code}`), { code });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Lets every pending setImmediate (the audit queue's drain) run. */
export function nextMacrotask(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A promise that never settles: a hung provider or a hung user function. */
export function never<T = never>(): Promise<T> {
  return new Promise<T>(() => undefined);
}
