import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorType } from '../../../src/meter/errors.js';
import type { HttpResponse, ToolContext } from '../../../src/runtime/tools/index.js';
import { ToolError, ToolInputError, httpRequestTool } from '../../../src/runtime/tools/index.js';

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

/** Echoes each request back as JSON; /status/N answers N; /slow never answers. */
function handle(req: IncomingMessage, res: ServerResponse, seen: Seen[]): void {
  const parts: Buffer[] = [];
  req.on('data', (part: Buffer) => parts.push(part));
  req.on('end', () => {
    const request = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(parts).toString('utf8') };
    seen.push(request);
    if (request.url === '/slow') return; // left hanging: the client's timeout or abort must end it
    const status = /^\/status\/(\d+)$/.exec(request.url)?.[1];
    res.writeHead(status === undefined ? 200 : Number(status), { 'content-type': 'application/json', 'x-echo': 'yes' });
    res.end(JSON.stringify({ method: request.method, url: request.url, body: request.body }));
  });
}

const run = (input: Record<string, unknown>, ctx: ToolContext = { signal: new AbortController().signal }): Promise<HttpResponse> =>
  httpRequestTool.run(input, ctx) as Promise<HttpResponse>;

describe('http_request', () => {
  let server: Server;
  let base: string;
  const seen: Seen[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => handle(req, res, seen));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('GETs a URL and answers with status, headers as an object, and the body text', async () => {
    const response = await run({ url: `${base}/hello?x=1` });
    expect(response.status).toBe(200);
    expect(response.headers['x-echo']).toBe('yes');
    expect(response.headers['content-type']).toBe('application/json');
    expect(JSON.parse(response.body)).toEqual({ method: 'GET', url: '/hello?x=1', body: '' });
  });

  it('sends an object body as JSON with its content type', async () => {
    const response = await run({ url: `${base}/items`, method: 'post', body: { name: 'a', n: [1, 2] } });
    expect(JSON.parse(response.body)).toEqual({ method: 'POST', url: '/items', body: '{"name":"a","n":[1,2]}' });
    expect(seen.at(-1)?.headers['content-type']).toBe('application/json');
  });

  it('sends a string body and the caller headers as given', async () => {
    await run({ url: `${base}/raw`, method: 'PUT', headers: { 'Content-Type': 'text/plain', 'X-Trace': 't1' }, body: 'plain text' });
    const request = seen.at(-1)!;
    expect(request.method).toBe('PUT');
    expect(request.body).toBe('plain text');
    expect(request.headers['content-type']).toBe('text/plain');
    expect(request.headers['x-trace']).toBe('t1');
  });

  it('returns an error status as data rather than throwing', async () => {
    const response = await run({ url: `${base}/status/404` });
    expect(response.status).toBe(404);
    expect(JSON.parse(response.body)).toMatchObject({ url: '/status/404' });
  });

  it('gives up after timeout_ms with an ETIMEDOUT error that errorType calls a timeout', async () => {
    const started = performance.now();
    const error = await run({ url: `${base}/slow`, timeout_ms: 100 }).catch((e: unknown) => e);
    expect(performance.now() - started).toBeLessThan(5000);
    expect(error).toBeInstanceOf(ToolError);
    expect(error).toMatchObject({ code: 'ETIMEDOUT', message: `http_request GET ${base}/slow timed out after 100ms` });
    expect(errorType(error)).toBe('timeout');
  });

  it('stops when the run signal aborts, with the signal reason', async () => {
    const controller = new AbortController();
    const pending = run({ url: `${base}/slow` }, { signal: controller.signal });
    setTimeout(() => controller.abort(new DOMException('run cancelled', 'AbortError')), 50);
    await expect(pending).rejects.toMatchObject({ name: 'AbortError', message: 'run cancelled' });
  });

  it('reports a refused connection with the socket code', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const error = await run({ url: `http://127.0.0.1:${port}/` }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'ToolError', code: 'ECONNREFUSED' });
    expect(errorType(error)).toBe('connection_error');
  });

  it.each([
    [{}, 'http_request: input.url is required'],
    [{ url: 'ftp://example.com/file' }, 'http_request: input.url must be http or https, got ftp'],
    [{ url: 'file:///etc/passwd' }, 'http_request: input.url must be http or https, got file'],
    [{ url: 'not a url' }, 'http_request: input.url "not a url" is not an absolute URL'],
    [{ url: 'http://x.test', headers: { a: 1 } }, 'http_request: input.headers.a must be a string, got a number'],
    [{ url: 'http://x.test', body: 'x' }, 'http_request: a GET request cannot have a body'],
    [{ url: 'http://x.test', timeout_ms: -1 }, /input\.timeout_ms must be a whole number/],
  ])('refuses bad input %j before any request', async (input, message) => {
    const count = seen.length;
    const error = await run(input).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ToolInputError);
    expect((error as Error).message).toMatch(message);
    expect(seen.length).toBe(count);
  });
});
