/**
 * A local HTTP server that plays a provider's side of the wire: it records each request
 * and answers with whatever the test scripts, byte chunks and pauses included.
 */
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Record<string, unknown>;
}

export type Reply = (res: ServerResponse, request: RecordedRequest) => Promise<void> | void;

export interface WireServer {
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** The reply for the next requests, until replaced. */
  reply(handler: Reply): void;
  close(): Promise<void>;
}

export async function startWireServer(): Promise<WireServer> {
  const requests: RecordedRequest[] = [];
  let handler: Reply = (res) => {
    res.writeHead(500).end('no reply scripted');
  };
  const server: Server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    req.on('end', () => {
      const text = Buffer.concat(parts).toString('utf8');
      const request: RecordedRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: text.length > 0 ? (JSON.parse(text) as Record<string, unknown>) : {},
      };
      requests.push(request);
      Promise.resolve(handler(res, request)).catch(() => res.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    reply(next) {
      handler = next;
    },
    close() {
      // Streams a test left hanging (abort, timeout) must not keep the server open.
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

export const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Cuts `text` into pieces at the given byte offsets, so a piece can end inside a line,
 * between CR and LF, or inside a UTF-8 character.
 */
export function splitBytes(text: string, offsets: readonly number[]): Buffer[] {
  const bytes = Buffer.from(text, 'utf8');
  const cuts = [0, ...offsets.filter((o) => o > 0 && o < bytes.length).sort((a, b) => a - b), bytes.length];
  const pieces: Buffer[] = [];
  for (let i = 1; i < cuts.length; i++) pieces.push(bytes.subarray(cuts[i - 1], cuts[i]));
  return pieces;
}

/** Writes an SSE response piece by piece with a pause between pieces; `hang` leaves it open. */
export async function streamPieces(res: ServerResponse, pieces: readonly Buffer[], delayMs: number, options: { hang?: boolean } = {}): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  for (const piece of pieces) {
    if (res.destroyed) return;
    res.write(piece);
    await pause(delayMs);
  }
  if (!options.hang) res.end();
}

/** A JSON answer with a status and headers. */
export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

/** The port of a server that was started and closed: connecting to it is refused. */
export async function refusedUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}
