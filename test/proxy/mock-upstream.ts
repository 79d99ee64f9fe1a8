/**
 * A local upstream that speaks the OpenAI (Chat Completions, Responses, Embeddings) and
 * Anthropic (Messages) wire formats, streamed and not, as the real APIs write them —
 * including OpenAI's `"usage":null` on every chunk and the extra usage chunk when a
 * stream asks for `include_usage`. Request headers steer it per call:
 *   x-mock-status: 429|500|529   answer with the provider's error body and this status
 *   x-mock-no-usage: 1           send no usage at all
 *   x-mock-chunks: n             content deltas in a stream (default 3)
 *   x-mock-chunk-delay-ms: n     pause between stream events (default: the server's)
 *   x-mock-gzip: 1               gzip a JSON answer (content-encoding: gzip)
 *   x-mock-stream-error: 1       stop a stream after its first content delta with the
 *                                provider's error event (a 200 that failed mid-stream)
 *   x-mock-content: text         answer this text (one delta when streamed), e.g. JSON for an object
 */
import { gzipSync } from 'node:zlib';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface MockUpstreamOptions {
  /** Wait before the response head, ms (a fixed model latency). */
  readonly latencyMs?: number;
  /** Wait between stream events, ms. */
  readonly chunkDelayMs?: number;
}

export interface ReceivedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface MockUpstream {
  readonly url: string;
  readonly received: ReceivedRequest[];
  /** Streams whose client went away before the end. */
  readonly aborted: { count: number };
  close(): Promise<void>;
}

const USAGE = { input: 12, output: 3 };
const WORDS = ['Hello', ' from', ' the', ' mock', ' upstream', ' model', '.'];

const sleep = (ms: number): Promise<void> => (ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve());

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export async function startMockUpstream(options: MockUpstreamOptions = {}): Promise<MockUpstream> {
  const received: ReceivedRequest[] = [];
  const aborted = { count: 0 };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      if (received.length > 1000) received.shift();
      void answer(req, res, body, options, aborted);
    });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    aborted,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function answer(req: IncomingMessage, res: ServerResponse, text: string, options: MockUpstreamOptions, aborted: { count: number }): Promise<void> {
  const path = (req.url ?? '').split('?')[0] ?? '';
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text || '{}') as Record<string, unknown>;
  } catch {
    const anthropic = path.endsWith('/messages');
    return send(res, 400, anthropic ? { type: 'error', error: { type: 'invalid_request_error', message: 'There was an error parsing the body of your request.' } } : { error: { message: 'We could not parse the JSON body of your request.', type: 'invalid_request_error', param: null, code: null } });
  }
  await sleep(options.latencyMs ?? 0);
  const status = Number(header(req, 'x-mock-status') ?? 200);
  const anthropic = path.endsWith('/messages');
  if (status >= 400) {
    const err = anthropic ? { type: 'error', error: { type: status === 529 ? 'overloaded_error' : status === 429 ? 'rate_limit_error' : 'api_error', message: 'Overloaded' } } : { error: { message: status === 429 ? 'Rate limit reached for requests' : 'The server had an error while processing your request.', type: status === 429 ? 'requests' : 'server_error', param: null, code: status === 429 ? 'rate_limit_exceeded' : null } };
    return send(res, status, err, status === 429 ? { 'retry-after': '1' } : {});
  }
  const noUsage = header(req, 'x-mock-no-usage') === '1';
  const n = Number(header(req, 'x-mock-chunks') ?? 3);
  const delay = Number(header(req, 'x-mock-chunk-delay-ms') ?? options.chunkDelayMs ?? 0);
  const model = typeof body.model === 'string' ? body.model : 'unknown';
  const content = header(req, 'x-mock-content');
  const words = content === undefined ? Array.from({ length: n }, (_, i) => WORDS[i % WORDS.length]!) : [content];
  const stream = body.stream === true;
  const sse = new SseWriter(res, delay, aborted);
  const gzip = header(req, 'x-mock-gzip') === '1';
  const ok = (answerBody: unknown): void => (gzip ? sendGzip(res, answerBody) : send(res, 200, answerBody));
  const failAfterFirst = header(req, 'x-mock-stream-error') === '1';
  const cut = (events: Event[], firstContent: number, error: Event): Event[] => (failAfterFirst ? [...events.slice(0, firstContent + 1), error] : events);
  if (path.endsWith('/chat/completions')) {
    if (!stream) return ok(chatCompletion(model, words.join(''), noUsage));
    const events = chatStream(model, words, noUsage, (body.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true);
    return sse.run(cut(events, 1, [null, JSON.stringify({ error: { message: 'The server had an error while processing your request.', type: 'server_error', param: null, code: null } })]));
  }
  if (path.endsWith('/responses')) {
    if (!stream) return ok(response(model, words.join(''), 'completed', noUsage));
    return sse.run(responsesStream(model, words, noUsage));
  }
  if (path.endsWith('/embeddings')) return ok(embeddings(model, body.encoding_format === 'base64', noUsage));
  if (anthropic) {
    if (!stream) return ok(message(model, words.join(''), noUsage));
    return sse.run(cut(messagesStream(model, words, noUsage), 3, ['error', JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } })]));
  }
  return send(res, 404, { error: { message: `Invalid URL (${req.method ?? ''} ${path})`, type: 'invalid_request_error', param: null, code: null } });
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'x-request-id': 'req_mock', ...headers });
  res.end(text);
}

function sendGzip(res: ServerResponse, body: unknown): void {
  const bytes = gzipSync(JSON.stringify(body));
  res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': bytes.length, 'x-request-id': 'req_mock' });
  res.end(bytes);
}

type Event = readonly [name: string | null, data: string];

class SseWriter {
  constructor(
    private readonly res: ServerResponse,
    private readonly delay: number,
    private readonly aborted: { count: number },
  ) {}

  async run(events: readonly Event[]): Promise<void> {
    const res = this.res;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-request-id': 'req_mock' });
    let gone = false;
    res.on('close', () => {
      if (!res.writableFinished) {
        gone = true;
        this.aborted.count++;
      }
    });
    for (const [name, data] of events) {
      if (gone) return;
      res.write(`${name === null ? '' : `event: ${name}\n`}data: ${data}\n\n`);
      await sleep(this.delay);
    }
    if (!gone) res.end();
  }
}

const CREATED = 1764720000;

function chatUsage(): Record<string, unknown> {
  return { prompt_tokens: USAGE.input, completion_tokens: USAGE.output, total_tokens: USAGE.input + USAGE.output, prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 } };
}

function chatCompletion(model: string, text: string, noUsage: boolean): unknown {
  return {
    id: 'chatcmpl-mock',
    object: 'chat.completion',
    created: CREATED,
    model,
    choices: [{ index: 0, message: { role: 'assistant', content: text, refusal: null, annotations: [] }, logprobs: null, finish_reason: 'stop' }],
    ...(noUsage ? {} : { usage: chatUsage() }),
    service_tier: 'default',
    system_fingerprint: 'fp_mock',
  };
}

function chatStream(model: string, words: readonly string[], noUsage: boolean, includeUsage: boolean): Event[] {
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}): Event => [null, JSON.stringify({ id: 'chatcmpl-mock', object: 'chat.completion.chunk', created: CREATED, model, service_tier: 'default', system_fingerprint: 'fp_mock', choices, ...(includeUsage ? { usage: null } : {}), ...extra })];
  const events: Event[] = [chunk([{ index: 0, delta: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: null }])];
  for (const w of words) events.push(chunk([{ index: 0, delta: { content: w }, logprobs: null, finish_reason: null }]));
  events.push(chunk([{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }]));
  if (includeUsage && !noUsage) events.push(chunk([], { usage: chatUsage() }));
  events.push([null, '[DONE]']);
  return events;
}

function response(model: string, text: string, status: string, noUsage: boolean): Record<string, unknown> {
  const done = status === 'completed';
  return {
    id: 'resp_mock',
    object: 'response',
    created_at: CREATED,
    status,
    error: null,
    incomplete_details: null,
    model,
    output: done ? [{ type: 'message', id: 'msg_mock', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text, annotations: [] }] }] : [],
    parallel_tool_calls: true,
    usage: done && !noUsage ? { input_tokens: USAGE.input, input_tokens_details: { cached_tokens: 0 }, output_tokens: USAGE.output, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: USAGE.input + USAGE.output } : null,
  };
}

function responsesStream(model: string, words: readonly string[], noUsage: boolean): Event[] {
  let seq = 0;
  const ev = (type: string, data: Record<string, unknown>): Event => [type, JSON.stringify({ type, sequence_number: seq++, ...data })];
  const text = words.join('');
  const events: Event[] = [
    ev('response.created', { response: response(model, '', 'in_progress', true) }),
    ev('response.in_progress', { response: response(model, '', 'in_progress', true) }),
    ev('response.output_item.added', { output_index: 0, item: { id: 'msg_mock', type: 'message', status: 'in_progress', content: [], role: 'assistant' } }),
    ev('response.content_part.added', { item_id: 'msg_mock', output_index: 0, content_index: 0, part: { type: 'output_text', annotations: [], text: '' } }),
  ];
  for (const w of words) events.push(ev('response.output_text.delta', { item_id: 'msg_mock', output_index: 0, content_index: 0, delta: w }));
  events.push(ev('response.output_text.done', { item_id: 'msg_mock', output_index: 0, content_index: 0, text }));
  events.push(ev('response.completed', { response: response(model, text, 'completed', noUsage) }));
  return events;
}

function embeddings(model: string, base64: boolean, noUsage: boolean): unknown {
  const vector = [0.25, -0.5, 0.125, 1];
  const embedding = base64 ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector;
  return { object: 'list', data: [{ object: 'embedding', index: 0, embedding }], model, ...(noUsage ? {} : { usage: { prompt_tokens: 5, total_tokens: 5 } }) };
}

function message(model: string, text: string, noUsage: boolean): unknown {
  return {
    id: 'msg_mock',
    type: 'message',
    role: 'assistant',
    model,
    content: [{ type: 'text', text }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    ...(noUsage ? {} : { usage: { input_tokens: USAGE.input, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: USAGE.output } }),
  };
}

function messagesStream(model: string, words: readonly string[], noUsage: boolean): Event[] {
  const ev = (type: string, data: Record<string, unknown>): Event => [type, JSON.stringify({ type, ...data })];
  const events: Event[] = [
    ev('message_start', { message: { id: 'msg_mock', type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, ...(noUsage ? {} : { usage: { input_tokens: USAGE.input, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 1 } }) } }),
    ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
    ev('ping', {}),
  ];
  for (const w of words) events.push(ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: w } }));
  events.push(ev('content_block_stop', { index: 0 }));
  events.push(ev('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, ...(noUsage ? {} : { usage: { output_tokens: USAGE.output } }) }));
  events.push(ev('message_stop', {}));
  return events;
}

export const MOCK_USAGE = USAGE;
