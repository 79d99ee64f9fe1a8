/**
 * Anthropic Messages API over HTTP (POST {baseUrl}/v1/messages), streamed as named SSE
 * events: message_start, content_block_start/delta/stop, message_delta, message_stop,
 * ping, and error (https://docs.anthropic.com/en/api/messages-streaming).
 */
import { anthropicUsage } from '../../meter/usage.js';
import type { Json } from './json.js';
import { obj, parseJson, str } from './json.js';
import type { CompletionRequest, CompletionResult, Provider, ProviderEnv } from './provider.js';
import { ProviderConfigError, ProviderError, notify, positiveMs } from './provider.js';
import { readSse } from './sse.js';
import { answersJson, errorFromResponse, postJson, withTransport } from './transport.js';

export const ANTHROPIC_BASE_URL = 'https://api.anthropic.com';
export const ANTHROPIC_VERSION = '2023-06-01';

export interface AnthropicProviderOptions {
  /** Default: `ANTHROPIC_API_KEY`. */
  readonly apiKey?: string;
  /** Default: `ANTHROPIC_BASE_URL`, else https://api.anthropic.com. */
  readonly baseUrl?: string;
  /** The `anthropic-version` header. Default 2023-06-01. */
  readonly version?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Limit for the whole call, streamed body included. Default 600 000 (Anthropic SDK's). */
  readonly timeoutMs?: number;
  /** `max_tokens` when the request sets none; the API requires the field. Default 1024. */
  readonly defaultMaxTokens?: number;
}

/** Anthropic's error types and the HTTP statuses its docs pair them with (errors page). */
const ERROR_STATUS: Readonly<Record<string, number>> = {
  invalid_request_error: 400,
  authentication_error: 401,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  overloaded_error: 529,
};

export class AnthropicProvider implements Provider {
  readonly name = 'anthropic';
  private readonly url: string;
  private readonly headers: Readonly<Record<string, string>>;
  private readonly timeoutMs: number;
  private readonly defaultMaxTokens: number;

  constructor(options: AnthropicProviderOptions = {}, env: ProviderEnv = process.env) {
    const apiKey = options.apiKey || env.ANTHROPIC_API_KEY || undefined;
    const customUrl = options.baseUrl || env.ANTHROPIC_BASE_URL || undefined;
    if (apiKey === undefined && customUrl === undefined) {
      throw new ProviderConfigError('ANTHROPIC_API_KEY is not set; set it, pass --provider simulated, or use --dry-run');
    }
    this.url = `${(customUrl ?? ANTHROPIC_BASE_URL).replace(/\/+$/, '')}/v1/messages`;
    this.headers = {
      ...(apiKey === undefined ? {} : { 'x-api-key': apiKey }),
      'anthropic-version': options.version ?? ANTHROPIC_VERSION,
      ...options.headers,
    };
    this.timeoutMs = positiveMs(options.timeoutMs ?? 600_000, 'timeoutMs');
    this.defaultMaxTokens = options.defaultMaxTokens ?? 1024;
  }

  complete(request: CompletionRequest): Promise<CompletionResult> {
    const stream = request.stream ?? true;
    // The Messages API takes no `system` role in `messages`: the prompt goes top-level.
    const system = request.messages.filter((m) => m.role === 'system').map((m) => m.content);
    const body = {
      model: request.model,
      max_tokens: request.maxTokens ?? this.defaultMaxTokens,
      ...(system.length > 0 ? { system: system.join('\n\n') } : {}),
      messages: request.messages.filter((m) => m.role !== 'system').map((m) => ({ role: m.role, content: m.content })),
      ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
      ...(stream ? { stream: true } : {}),
    };
    return withTransport({ provider: this.name, timeoutMs: this.timeoutMs, signal: request.signal }, async (signal) => {
      const headers = stream ? { ...this.headers, accept: 'text/event-stream' } : this.headers;
      const response = await postJson(this.url, headers, body, signal);
      if (!response.ok) throw await errorFromResponse(this.name, response);
      // A server that ignores `stream: true` answers with one JSON body; read it as such.
      if (!stream || answersJson(response)) return fromJson(parseJson(this.name, await response.text()), request.model);
      if (response.body === null) throw new ProviderError('anthropic sent a streaming response with no body', undefined, undefined, 'bad_response');
      return fromStream(response.body, request);
    });
  }
}

function fromJson(json: Json, requestedModel: string): CompletionResult {
  const blocks = Array.isArray(json.content) ? json.content : [];
  const text = blocks.map((b) => (obj(b)?.type === 'text' ? (str(obj(b)?.text) ?? '') : '')).join('');
  return { text, model: str(json.model) ?? requestedModel, usage: anthropicUsage(json), finishReason: str(json.stop_reason) };
}

/** The numeric fields only: a `null` in message_delta must not erase message_start's count. */
function numbers(json: Json | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(json ?? {})) if (typeof value === 'number') out[key] = value;
  return out;
}

function streamError(data: Json): ProviderError {
  const error = obj(data.error);
  const type = str(error?.type);
  const status = type === undefined ? undefined : ERROR_STATUS[type];
  return new ProviderError(`anthropic stream error: ${str(error?.message) ?? type ?? 'unknown error'}`, status, undefined, type);
}

async function fromStream(body: AsyncIterable<Uint8Array>, request: CompletionRequest): Promise<CompletionResult> {
  let text = '';
  let model: string | undefined;
  // message_start carries input and cache counts; message_delta's counts are cumulative
  // and overwrite them (output_tokens always, input fields on newer API versions).
  let usage: Record<string, unknown> = {};
  let finishReason: string | undefined;
  let firstToken = true;
  let stopped = false;
  for await (const event of readSse(body)) {
    // Each payload repeats its event name in `type`; trust the payload if they differ.
    const data = parseJson('anthropic', event.data);
    const type = str(data.type) ?? event.event;
    if (type === 'error') throw streamError(data);
    if (type === 'message_start') {
      const message = obj(data.message);
      model = str(message?.model);
      usage = { ...obj(message?.usage) };
    } else if (type === 'content_block_start' || type === 'content_block_delta') {
      // Only text is answer: thinking_delta, input_json_delta and citations are not.
      const piece = type === 'content_block_start' ? obj(data.content_block) : obj(data.delta);
      const t = piece?.type === 'text' || piece?.type === 'text_delta' ? str(piece.text) : undefined;
      if (t !== undefined && t.length > 0) {
        if (firstToken) notify(request.onFirstToken);
        firstToken = false;
        text += t;
      }
    } else if (type === 'message_delta') {
      finishReason = str(obj(data.delta)?.stop_reason) ?? finishReason;
      usage = { ...usage, ...numbers(obj(data.usage)) };
    } else if (type === 'message_stop') {
      stopped = true;
      break;
    }
    // ping, content_block_stop and event types added later are ignored, as the docs ask.
  }
  if (!stopped) throw new ProviderError('anthropic stream ended before message_stop', undefined, undefined, 'ECONNRESET');
  return { text, model: model ?? request.model, usage: anthropicUsage({ usage }), finishReason };
}
