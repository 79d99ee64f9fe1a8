/**
 * OpenAI Chat Completions over HTTP (POST {baseUrl}/chat/completions). Any server that
 * speaks the same wire format works with a different `baseUrl`: vLLM, Ollama
 * (http://localhost:11434/v1), OpenRouter (https://openrouter.ai/api/v1), LiteLLM.
 */
import { openAiUsage } from '../../meter/usage.js';
import type { Json } from './json.js';
import { obj, parseJson, str } from './json.js';
import type { CompletionRequest, CompletionResult, Provider, ProviderEnv } from './provider.js';
import { ProviderConfigError, ProviderError, notify, positiveMs } from './provider.js';
import { readSse } from './sse.js';
import { answersJson, errorFromResponse, postJson, withTransport } from './transport.js';

export const OPENAI_BASE_URL = 'https://api.openai.com/v1';

export interface OpenAIProviderOptions {
  /** Default: `OPENAI_API_KEY`. Needed for api.openai.com; local servers take none. */
  readonly apiKey?: string;
  /** Default: `OPENAI_BASE_URL`, else https://api.openai.com/v1. */
  readonly baseUrl?: string;
  /** Extra headers, e.g. OpenRouter's `HTTP-Referer` and `X-Title`. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Limit for the whole call, streamed body included. Default 600 000 (OpenAI SDK's). */
  readonly timeoutMs?: number;
  /**
   * The body field for `maxTokens`. OpenAI deprecated `max_tokens` and its reasoning
   * models (o-series, gpt-5) reject it for `max_completion_tokens`; many compatible
   * servers still only read `max_tokens`, so it stays the default.
   */
  readonly maxTokensField?: 'max_tokens' | 'max_completion_tokens';
}

export class OpenAIProvider implements Provider {
  readonly name = 'openai';
  private readonly url: string;
  private readonly headers: Readonly<Record<string, string>>;
  private readonly timeoutMs: number;
  private readonly maxTokensField: 'max_tokens' | 'max_completion_tokens';

  constructor(options: OpenAIProviderOptions = {}, env: ProviderEnv = process.env) {
    const apiKey = options.apiKey || env.OPENAI_API_KEY || undefined;
    const customUrl = options.baseUrl || env.OPENAI_BASE_URL || undefined;
    if (apiKey === undefined && customUrl === undefined) {
      throw new ProviderConfigError('OPENAI_API_KEY is not set; set it, pass --provider simulated, or use --dry-run');
    }
    this.url = `${(customUrl ?? OPENAI_BASE_URL).replace(/\/+$/, '')}/chat/completions`;
    this.headers = { ...(apiKey === undefined ? {} : { authorization: `Bearer ${apiKey}` }), ...options.headers };
    this.timeoutMs = positiveMs(options.timeoutMs ?? 600_000, 'timeoutMs');
    this.maxTokensField = options.maxTokensField ?? 'max_tokens';
  }

  complete(request: CompletionRequest): Promise<CompletionResult> {
    const stream = request.stream ?? true;
    const body = {
      model: request.model,
      messages: request.messages.map((m) => ({ role: m.role, content: m.content })),
      ...(request.maxTokens === undefined ? {} : { [this.maxTokensField]: request.maxTokens }),
      ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
      // Without include_usage a stream carries no token counts; with it, one last chunk
      // with empty `choices` carries `usage` for the whole call.
      ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}),
    };
    return withTransport({ provider: this.name, timeoutMs: this.timeoutMs, signal: request.signal }, async (signal) => {
      const headers = stream ? { ...this.headers, accept: 'text/event-stream' } : this.headers;
      const response = await postJson(this.url, headers, body, signal);
      if (!response.ok) throw await errorFromResponse(this.name, response);
      // A server that ignores `stream: true` answers with one JSON body; read it as such.
      if (!stream || answersJson(response)) return fromJson(parseJson(this.name, await response.text()), request.model);
      if (response.body === null) throw new ProviderError('openai sent a streaming response with no body', undefined, undefined, 'bad_response');
      return fromStream(response.body, request);
    });
  }
}

function fromJson(json: Json, requestedModel: string): CompletionResult {
  const choices = json.choices;
  const choice = Array.isArray(choices) ? obj(choices[0]) : undefined;
  return {
    text: str(obj(choice?.message)?.content) ?? '',
    model: str(json.model) ?? requestedModel,
    usage: openAiUsage(json),
    finishReason: str(choice?.finish_reason),
  };
}

/**
 * Chunks are `chat.completion.chunk` objects: `choices[0].delta.content` carries text,
 * `finish_reason` comes on the last content chunk, then (with include_usage) a chunk with
 * `choices: []` and `usage`, then `data: [DONE]`.
 */
async function fromStream(body: AsyncIterable<Uint8Array>, request: CompletionRequest): Promise<CompletionResult> {
  let text = '';
  let model: string | undefined;
  let usage: CompletionResult['usage'];
  let finishReason: string | undefined;
  let firstToken = true;
  let done = false;
  for await (const event of readSse(body)) {
    if (event.data === '[DONE]') {
      done = true;
      break;
    }
    const chunk = parseJson('openai', event.data);
    // Errors after the 200 (OpenAI, OpenRouter) come as a chunk with an `error` object;
    // OpenRouter puts the HTTP status it would have sent in `error.code`.
    const error = obj(chunk.error);
    if (error !== undefined) {
      const status = typeof error.code === 'number' ? error.code : undefined;
      throw new ProviderError(`openai stream error: ${str(error.message) ?? 'unknown error'}`, status, undefined, str(error.code) ?? str(error.type));
    }
    model ??= str(chunk.model);
    usage = openAiUsage(chunk) ?? usage;
    const choice = Array.isArray(chunk.choices) ? obj(chunk.choices[0]) : undefined;
    const content = str(obj(choice?.delta)?.content);
    if (content !== undefined && content.length > 0) {
      if (firstToken) notify(request.onFirstToken);
      firstToken = false;
      text += content;
    }
    finishReason = str(choice?.finish_reason) ?? finishReason;
  }
  // A stream cut before `[DONE]` and before any finish_reason lost part of the answer:
  // the connection was dropped, so it is retried like one.
  if (!done && finishReason === undefined) {
    throw new ProviderError('openai stream ended before the answer was complete', undefined, undefined, 'ECONNRESET');
  }
  return { text, model: model ?? request.model, usage, finishReason };
}
