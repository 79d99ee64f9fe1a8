import { describe, expect, it } from 'vitest';
import { SseParser, readSse, retryAfterSeconds } from '../../../src/runtime/providers/index.js';
import type { SseEvent } from '../../../src/runtime/providers/index.js';
import { splitBytes } from './wire-server.js';

const STREAM = ': keep-alive\r\n\r\nevent: delta\r\ndata: first\r\ndata: line ☃\r\n\r\ndata:no-space\rdata:  two spaces\r\r\nid: 7\nretry: 10\ndata: {"t":"é"}\n\n';
const EXPECTED: SseEvent[] = [
  { event: 'delta', data: 'first\nline ☃' },
  { event: 'message', data: 'no-space\n two spaces' },
  { event: 'message', data: '{"t":"é"}' },
];

async function collect(pieces: readonly Uint8Array[]): Promise<SseEvent[]> {
  const events: SseEvent[] = [];
  for await (const event of readSse(pieces)) events.push(event);
  return events;
}

describe('SSE parsing', () => {
  it('parses CRLF, CR and LF line ends, comments, multi-line data and unused fields', async () => {
    expect(await collect([Buffer.from(STREAM)])).toEqual(EXPECTED);
  });

  it('gives the same events however the bytes are cut in two', async () => {
    const length = Buffer.byteLength(STREAM);
    for (let cut = 1; cut < length; cut++) expect(await collect(splitBytes(STREAM, [cut]))).toEqual(EXPECTED);
  });

  it('gives the same events when every byte arrives alone', async () => {
    const offsets = Array.from({ length: Buffer.byteLength(STREAM) }, (_, i) => i);
    expect(await collect(splitBytes(STREAM, offsets))).toEqual(EXPECTED);
  });

  it('keeps a CR that ends a chunk until it knows whether an LF follows', () => {
    const parser = new SseParser();
    expect(parser.push('data: a\r')).toEqual([]);
    expect(parser.push('\ndata: b\r\n\r\n')).toEqual([{ event: 'message', data: 'a\nb' }]);
  });

  it('dispatches a last event that no blank line ended, and ignores one with no data', () => {
    const parser = new SseParser();
    expect(parser.push('event: ping\n\ndata: [DONE]')).toEqual([]);
    expect(parser.end()).toEqual([{ event: 'message', data: '[DONE]' }]);
  });
});

describe('retryAfterSeconds', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');
  it.each([
    [{ 'retry-after': '2' }, 2],
    [{ 'retry-after': '0.5' }, 0.5],
    [{ 'retry-after': 'Wed, 01 Jan 2025 00:00:20 GMT' }, 20],
    [{ 'retry-after': 'Tue, 31 Dec 2024 23:59:00 GMT' }, 0],
    [{ 'retry-after-ms': '250', 'retry-after': '1' }, 0.25],
    [{ 'retry-after': 'soon' }, undefined],
    [{}, undefined],
  ])('reads %j as %s seconds', (headers, expected) => {
    expect(retryAfterSeconds(new Headers(headers), now)).toBe(expected);
  });
});
