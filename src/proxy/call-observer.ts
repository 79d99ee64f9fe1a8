import { anthropicUsage, openAiUsage } from '../meter/index.js';
import type { Usage } from '../meter/index.js';
import type { SseEvent } from '../runtime/providers/sse.js';
import type { Endpoint } from './endpoints.js';

type Obj = Readonly<Record<string, unknown>>;

function obj(value: unknown): Obj | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Obj) : undefined;
}

function nonEmpty(value: unknown): boolean {
  return (typeof value === 'string' && value.length > 0) || (Array.isArray(value) && value.length > 0);
}

/** A body or event that was not the JSON it should be: counted, never fatal. */
export class MalformedBody extends Error {
  override readonly name = 'MalformedBody';
}

/**
 * What one metered call's response says about the call, read from its streamed events or
 * its JSON body: the first content delta (time to first token), the final usage, and an
 * error the provider sent after its 200. It reads the response; it never changes it
 * (removing the injected usage chunk is the chat filter's job).
 */
export class CallObserver {
  /** Set by the first content delta: text, a tool call, reasoning — not role or `ping` events. */
  firstContent = false;
  /** An error event inside a 200 stream (OpenAI `error` chunk, Anthropic `error`, Responses `response.failed`). */
  streamError: string | null = null;
  /** Model the upstream says served the call. */
  model: string | undefined;
  /** Events and bodies that were not JSON. */
  malformed = 0;
  private usage: Usage | undefined;
  /** Anthropic reports input on `message_start` and cumulative output on `message_delta`. */
  private anthropic: Record<string, unknown> | undefined;

  constructor(readonly endpoint: Endpoint) {}

  /** Usage seen so far (the whole call's once the response ended); undefined when none was sent. */
  result(): Usage | undefined {
    if (this.anthropic !== undefined) return anthropicUsage({ usage: this.anthropic });
    return this.usage;
  }

  /** One SSE event of a streamed response, already parsed as JSON when it is. Returns the parsed data. */
  event(ev: SseEvent): Obj | undefined {
    if (ev.data === '[DONE]') return undefined;
    let data: Obj | undefined;
    // Only parse what can carry something we read: after the first token, the middle of
    // a chat stream is content chunks, and JSON.parse of each would be wasted time.
    if (this.firstContent && this.endpoint === 'chat_completions' && !ev.data.includes('"usage"') && !ev.data.includes('"error"')) return undefined;
    try {
      data = obj(JSON.parse(ev.data));
    } catch {
      this.malformed++;
      return undefined;
    }
    if (data === undefined) return undefined;
    switch (this.endpoint) {
      case 'chat_completions':
        this.chatChunk(data);
        break;
      case 'responses':
        this.responsesEvent(data);
        break;
      case 'messages':
        this.messagesEvent(ev.event, data);
        break;
      case 'embeddings':
        // Embeddings are never streamed; a stream from one is read like a chat stream.
        this.chatChunk(data);
        break;
      default: {
        const unreachable: never = this.endpoint;
        return unreachable;
      }
    }
    return data;
  }

  /** A whole (non-streamed) JSON body. */
  body(text: string): void {
    let data: Obj | undefined;
    try {
      data = obj(JSON.parse(text));
    } catch {
      this.malformed++;
      return;
    }
    if (data === undefined) return;
    if (typeof data.model === 'string') this.model = data.model;
    if (this.endpoint === 'messages') {
      this.usage = anthropicUsage(data);
      return;
    }
    const usage = openAiUsage(data);
    // An embedding has no output: zero output tokens is what it used, and what lets it be priced.
    this.usage = this.endpoint === 'embeddings' && usage !== undefined && usage.outputTokens === undefined ? { ...usage, outputTokens: 0 } : usage;
  }

  private chatChunk(data: Obj): void {
    if (this.model === undefined && typeof data.model === 'string') this.model = data.model;
    const error = obj(data.error);
    if (error !== undefined) this.streamError = typeof error.type === 'string' ? error.type : 'stream_error';
    const usage = openAiUsage(data);
    if (usage !== undefined) this.usage = usage;
    if (this.firstContent) return;
    const choices = data.choices;
    if (!Array.isArray(choices)) return;
    for (const choice of choices) {
      const delta = obj(obj(choice)?.delta);
      if (delta === undefined) continue;
      if (nonEmpty(delta.content) || nonEmpty(delta.tool_calls) || nonEmpty(delta.refusal) || nonEmpty(delta.reasoning_content) || nonEmpty(delta.reasoning) || nonEmpty(delta.audio)) {
        this.firstContent = true;
        return;
      }
    }
  }

  private responsesEvent(data: Obj): void {
    const type = typeof data.type === 'string' ? data.type : '';
    // `response.created` and `in_progress` carry no content; every `*.delta` event does
    // (output_text, function_call_arguments, reasoning_summary_text, refusal, audio).
    if (!this.firstContent && type.endsWith('.delta') && nonEmpty(data.delta)) this.firstContent = true;
    const response = obj(data.response);
    if (response !== undefined) {
      if (typeof response.model === 'string') this.model = response.model;
      const usage = openAiUsage(response);
      if (usage !== undefined) this.usage = usage;
    }
    if (type === 'error') this.streamError = typeof data.code === 'string' ? data.code : 'stream_error';
    else if (type === 'response.failed') this.streamError = typeof obj(response?.error)?.code === 'string' ? String(obj(response?.error)?.code) : 'response_failed';
  }

  private messagesEvent(name: string, data: Obj): void {
    const type = typeof data.type === 'string' ? data.type : name;
    switch (type) {
      case 'message_start': {
        const message = obj(data.message);
        if (typeof message?.model === 'string') this.model = message.model;
        const usage = obj(message?.usage);
        if (usage !== undefined) this.anthropic = { ...usage };
        break;
      }
      case 'message_delta': {
        const usage = obj(data.usage);
        // Cumulative counts: a later figure replaces an earlier one field by field.
        if (usage !== undefined) this.anthropic = { ...this.anthropic, ...withoutNulls(usage) };
        break;
      }
      case 'content_block_delta': {
        if (this.firstContent) break;
        const delta = obj(data.delta);
        if (delta !== undefined && (nonEmpty(delta.text) || nonEmpty(delta.partial_json) || nonEmpty(delta.thinking))) this.firstContent = true;
        break;
      }
      case 'error': {
        const error = obj(data.error);
        this.streamError = typeof error?.type === 'string' ? error.type : 'stream_error';
        break;
      }
      default:
        // ping, content_block_start/stop, message_stop: nothing to read.
        break;
    }
  }
}

function withoutNulls(o: Obj): Obj {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== null) out[k] = v;
  return out;
}
