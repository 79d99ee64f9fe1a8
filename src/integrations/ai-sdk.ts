import type { LanguageModelMiddleware, ToolSet } from 'ai';
import type { Usage } from '../meter/index.js';
import { MeteredCall, PartialResponse, StreamError } from '../proxy/metered-call.js';
import { callScope } from './metering-fetch.js';
import type { ObserveOptions } from './metering-fetch.js';

export { defaultMeter } from './metering-fetch.js';
export type { ObserveOptions } from './metering-fetch.js';

type GenerateResult = Awaited<ReturnType<NonNullable<LanguageModelMiddleware['wrapGenerate']>>>;
type StreamResult = Awaited<ReturnType<NonNullable<LanguageModelMiddleware['wrapStream']>>>;
type StreamPart = StreamResult['stream'] extends ReadableStream<infer P> ? P : never;
type V3Usage = GenerateResult['usage'];

/** Stream parts that carry content: the first of them is the first token. */
const CONTENT_PARTS: ReadonlySet<string> = new Set(['text-delta', 'reasoning-delta', 'tool-input-start', 'tool-input-delta', 'tool-call', 'file', 'source']);

/** The AI SDK's usage (v3: totals with cache detail) as the meter's. */
function usageOf(usage: V3Usage | undefined): Usage | undefined {
  if (usage === undefined) return undefined;
  const out: { -readonly [K in keyof Usage]: Usage[K] } = {};
  if (usage.inputTokens.total !== undefined) out.inputTokens = usage.inputTokens.total;
  if (usage.outputTokens.total !== undefined) out.outputTokens = usage.outputTokens.total;
  if (usage.inputTokens.cacheRead !== undefined) out.cachedInputTokens = usage.inputTokens.cacheRead;
  if (usage.inputTokens.cacheWrite !== undefined) out.cacheWriteTokens = usage.inputTokens.cacheWrite;
  return out;
}

/** `openai.chat` → `openai`: the AI SDK names a provider with the API it speaks. */
function providerOf(provider: string): string {
  const dot = provider.indexOf('.');
  return dot < 0 ? provider : provider.slice(0, dot);
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(typeof err === 'string' ? err : JSON.stringify(err));
}

/**
 * A language-model middleware for the Vercel AI SDK's `wrapLanguageModel`: every
 * `generateText`, `streamText`, `generateObject` and `streamObject` call of the wrapped
 * model is measured on the current run (or as a run of its own outside one) — usage with
 * cache reads and writes, cost, time to first content token, the served model, finish
 * reason and errors. Streams reach the caller unchanged: parts are observed as they pass.
 *
 * ```ts
 * const model = wrapLanguageModel({ model: openai('gpt-4o-mini'), middleware: flowmeterMiddleware({ meter }) });
 * ```
 */
export function flowmeterMiddleware(options: ObserveOptions = {}): LanguageModelMiddleware {
  const open = (provider: string, modelId: string, streaming: boolean): { call: MeteredCall; end: (usage: Usage | undefined, err: Error | undefined, served: string | undefined) => void } => {
    const s = callScope(options, providerOf(provider));
    // The meter counts its own failures; nothing here can fail the caller's request.
    const call = new MeteredCall(s.run, { model: modelId, provider: options.provider ?? providerOf(provider), streaming, usage: 'none', ...(options.phase === undefined ? {} : { phase: options.phase }) }, () => undefined);
    return {
      call,
      end: (usage, err, served) => {
        call.end(usage, err, served);
        void call.recorded.then(() => s.end(err));
      },
    };
  };

  return {
    specificationVersion: 'v3',
    wrapGenerate: async ({ doGenerate, model }) => {
      const { end } = open(model.provider, model.modelId, false);
      let result: GenerateResult;
      try {
        result = await doGenerate();
      } catch (err) {
        end(undefined, asError(err), undefined);
        throw err;
      }
      end(usageOf(result.usage), undefined, result.response?.modelId);
      return result;
    },
    wrapStream: async ({ doStream, model }) => {
      const { call, end } = open(model.provider, model.modelId, true);
      let result: StreamResult;
      try {
        result = await doStream();
      } catch (err) {
        end(undefined, asError(err), undefined);
        throw err;
      }
      let first = true;
      let served: string | undefined;
      let usage: Usage | undefined;
      let failure: Error | undefined;
      let ended = false;
      const finish = (err: Error | undefined): void => {
        if (ended) return;
        ended = true;
        end(usage ?? (err !== undefined && !first ? {} : undefined), failure ?? err, served);
      };
      const observe = new TransformStream<StreamPart, StreamPart>({
        transform(part, controller) {
          if (first && CONTENT_PARTS.has(part.type)) {
            first = false;
            call.firstToken();
          }
          if (part.type === 'response-metadata' && part.modelId !== undefined) served = part.modelId;
          else if (part.type === 'finish') usage = usageOf(part.usage);
          else if (part.type === 'error') failure ??= new StreamError(errorName(part.error));
          controller.enqueue(part);
        },
        flush() {
          finish(undefined);
        },
      });
      const stream = result.stream.pipeThrough(observe);
      // A reader that stops early cancels the stream: the call is recorded with what it saw.
      const reader = stream.getReader();
      const passed = new ReadableStream<StreamPart>({
        async pull(controller) {
          try {
            const next = await reader.read();
            if (next.done) controller.close();
            else controller.enqueue(next.value);
          } catch (err) {
            finish(asError(err));
            controller.error(err);
          }
        },
        async cancel(reason) {
          finish(new PartialResponse());
          await reader.cancel(reason);
        },
      });
      return { ...result, stream: passed };
    },
  };
}

/** An error part's class, for `error_type`: its name or type field when it has one. */
function errorName(error: unknown): string {
  if (error instanceof Error) return error.name;
  if (typeof error === 'object' && error !== null) {
    const e = error as { type?: unknown; name?: unknown; error?: { type?: unknown } };
    if (typeof e.type === 'string') return e.type;
    if (typeof e.error?.type === 'string') return e.error.type;
    if (typeof e.name === 'string') return e.name;
  }
  return 'stream_error';
}

/**
 * Wraps an AI SDK tool set so each tool's `execute` is measured as a tool call (its name,
 * duration, success or the error, which still reaches the SDK) on the current run, or, outside
 * one, on a run of its own (as the LLM calls of `flowmeterMiddleware` are). A tool whose
 * `execute` streams (an async generator yielding preliminary results) keeps streaming: the
 * call lasts from the first pull to the last item. Returns a new tool set of the same type;
 * tools without `execute` are kept as they are.
 *
 * ```ts
 * await generateText({ model, tools: observeTools({ weather }, { meter }), prompt });
 * ```
 */
export function observeTools<T extends ToolSet>(tools: T, options: ObserveOptions = {}): T {
  const out: Record<string, unknown> = {};
  for (const [name, tool] of Object.entries(tools)) {
    const execute = tool.execute as ((input: unknown, execution: unknown) => unknown) | undefined;
    if (typeof execute !== 'function') {
      out[name] = tool;
      continue;
    }
    out[name] = { ...tool, execute: (input: unknown, execution: unknown): unknown => measuredExecute(name, () => execute(input, execution), options) };
  }
  return out as T;
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function';
}

function measuredExecute(name: string, execute: () => unknown, options: ObserveOptions): unknown {
  const scope = callScope(options, 'ai-sdk');
  let result: unknown;
  try {
    result = execute();
  } catch (err) {
    // A synchronous throw is a measured, failed call too; the SDK gets it as a rejection.
    result = Promise.reject(asError(err));
  }
  if (!isAsyncIterable(result)) {
    return scope.run.toolCall(name, () => result).then(
      (value) => {
        scope.end(undefined);
        return value;
      },
      (err: unknown) => {
        scope.end(asError(err));
        throw err;
      },
    );
  }
  return streamedTool(name, result, scope);
}

/**
 * Passes a streaming tool's items through as the SDK pulls them; the tool call lasts from the
 * first pull to the last item, or fails with the generator's error. A consumer that stops
 * early ends the call there, as a success.
 */
async function* streamedTool(name: string, source: AsyncIterable<unknown>, scope: ReturnType<typeof callScope>): AsyncGenerator<unknown> {
  let settle: ((err: unknown) => void) | undefined;
  const measured = scope.run
    .toolCall(name, () => new Promise<void>((resolve, reject) => (settle = (err) => (err === undefined ? resolve() : reject(asError(err))))))
    .then(
      () => scope.end(undefined),
      (err: unknown) => scope.end(asError(err)),
    );
  let failure: unknown;
  try {
    for await (const item of source) yield item;
  } catch (err) {
    failure = err ?? new Error('the tool failed');
    throw err;
  } finally {
    settle?.(failure);
    await measured;
  }
}
