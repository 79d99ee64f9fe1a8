/**
 * The built-in `http_request` tool: one real `fetch`, bounded by the run's signal and a
 * timeout that covers the whole exchange, body included, so a stalled server cannot hang
 * a run. Any status is an answer: a 404 comes back as `{ status: 404, ... }` for the
 * workflow to read, and only a failure to get an answer at all throws.
 */
import { errorCode, errorMessages, withDeadline } from '../deadline.js';
import { ToolError, ToolInputError } from './errors.js';
import type { ToolInput } from './input.js';
import { isRecord, optionalInteger, optionalString, optionalStringRecord, requiredString } from './input.js';
import type { Tool, ToolContext } from './tool.js';

export const HTTP_REQUEST_TIMEOUT_MS = 30_000;

export interface HttpResponse {
  readonly status: number;
  /** Lower-case names; repeated headers joined with ", " as `Headers` does. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

const NAME = 'http_request';

interface HttpInput {
  readonly url: URL;
  readonly method: string;
  readonly headers: Record<string, string>;
  readonly body: string | undefined;
  readonly timeoutMs: number;
}

function readInput(input: ToolInput): HttpInput {
  const text = requiredString(NAME, input, 'url');
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ToolInputError(`${NAME}: input.url ${JSON.stringify(text)} is not an absolute URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ToolInputError(`${NAME}: input.url must be http or https, got ${url.protocol.slice(0, -1)}`);
  }
  const method = (optionalString(NAME, input, 'method') ?? 'GET').toUpperCase();
  const headers = { ...optionalStringRecord(NAME, input, 'headers') };
  let body: string | undefined;
  const raw = input.body;
  if (typeof raw === 'string') body = raw;
  else if (isRecord(raw) || Array.isArray(raw)) {
    body = JSON.stringify(raw);
    // An object body is sent as JSON unless the caller named its own content type.
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
  } else if (raw !== undefined && raw !== null) {
    throw new ToolInputError(`${NAME}: input.body must be a string or an object, got a ${typeof raw}`);
  }
  // fetch would reject this with a bare TypeError; say which input is wrong instead.
  if (body !== undefined && (method === 'GET' || method === 'HEAD')) throw new ToolInputError(`${NAME}: a ${method} request cannot have a body`);
  const timeoutMs = optionalInteger(NAME, input, 'timeout_ms', 1, 24 * 3600 * 1000) ?? HTTP_REQUEST_TIMEOUT_MS;
  return { url, method, headers, body, timeoutMs };
}

function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new DOMException('the call was aborted', 'AbortError');
}

// async: an input mistake rejects, as every other failure of the call does.
export async function httpRequest(input: ToolInput, ctx: ToolContext): Promise<HttpResponse> {
  const request = readInput(input);
  const target = `${request.method} ${request.url.href}`;
  return withDeadline(
    {
      signal: ctx.signal,
      timeoutMs: request.timeoutMs,
      aborted: abortReason,
      failed: (err, timedOut) =>
        timedOut
          ? new ToolError(`${NAME} ${target} timed out after ${request.timeoutMs}ms`, 'ETIMEDOUT', { cause: err })
          : new ToolError(`${NAME} ${target} failed: ${errorMessages(err)}`, errorCode(err), { cause: err }),
    },
    async (signal) => {
      const response = await fetch(request.url, { method: request.method, headers: request.headers, body: request.body, signal });
      const body = await response.text();
      return { status: response.status, headers: Object.fromEntries(response.headers), body };
    },
  );
}

export const httpRequestTool: Tool = {
  name: NAME,
  description: 'Sends an HTTP request: { url, method?, headers?, body? (string, or an object sent as JSON), timeout_ms? } → { status, headers, body }.',
  run: httpRequest,
};
