/**
 * The processes of the proxy benchmark, one role each, so the load generator, the
 * upstream and the proxy under test never share an event loop:
 *   upstream <latencyMs> <chunkDelayMs>     the local mock upstream
 *   flowmeter <upstreamUrl> <files|bare>    `flowmeter proxy` as the CLI builds it
 *   forwarder <upstreamUrl>                 the floor: a plain Node forwarder that measures nothing
 * Each prints `READY <url>` once listening and runs until killed. On SIGUSR2 the flowmeter
 * proxy prints `BUSY <share>`: how busy its event loop was since the last SIGUSR2 (0 to 1).
 */
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Agent } from 'undici';
import { createMeter } from '../../src/meter/index.js';
import { createProxy } from '../../src/proxy/index.js';
import { startMockUpstream } from '../../test/proxy/mock-upstream.js';

const [role, a, b] = process.argv.slice(2);
if (role === 'upstream') {
  const up = await startMockUpstream({ latencyMs: Number(a ?? 0), chunkDelayMs: Number(b ?? 0) });
  console.log(`READY ${up.url}`);
} else if (role === 'flowmeter') {
  // `bare`: the hot path and the audit queue with no file or store sink (Prometheus only);
  // `files`: the CLI's defaults, run folders and the SQLite store included (both written on
  // threads, as the CLI does; FLOWMETER_BENCH_PROXY_STORE_WRITER=sync puts the store back on the event loop).
  const dir = mkdtempSync(join(tmpdir(), 'flowmeter-bench-proxy-'));
  const storeWriter = process.env.FLOWMETER_BENCH_PROXY_STORE_WRITER === 'sync' ? 'sync' : 'thread';
  const meter = b === 'files' ? createMeter({ runsDir: join(dir, 'runs'), fileWriter: 'thread', storeWriter, log: false }) : createMeter({ runsDir: false, store: false, log: false });
  let since = performance.eventLoopUtilization();
  process.on('SIGUSR2', () => {
    const now = performance.eventLoopUtilization();
    console.log(`BUSY ${performance.eventLoopUtilization(now, since).utilization}`);
    since = now;
  });
  const proxy = createProxy({ meter, upstreams: [`openai=${a ?? ''}`] });
  const server = await proxy.listen({ port: 0, addr: '127.0.0.1' });
  console.log(`READY ${server.url}`);
} else if (role === 'forwarder') {
  // What any Node proxy costs on this machine: read the request, send it upstream over a
  // keep-alive undici Agent (as flowmeter does), stream the answer back. No metering at all.
  const origin = new URL(a ?? '').origin;
  const agent = new Agent({ keepAliveTimeout: 30_000 });
  const forward = (headers: IncomingHttpHeaders): Record<string, string> => ({ 'content-type': String(headers['content-type'] ?? 'application/json'), authorization: String(headers.authorization ?? '') });
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      agent
        .request({ origin, path: (req.url ?? '/').replace(/^\/openai/, ''), method: 'POST', headers: forward(req.headers), body: Buffer.concat(chunks) })
        .then(async (up) => {
          res.writeHead(up.statusCode, { 'content-type': String(up.headers['content-type'] ?? 'application/json') });
          await pipeline(up.body, res);
        })
        .catch(() => {
          if (!res.headersSent) res.writeHead(502);
          res.end();
        });
    });
  });
  server.keepAliveTimeout = 30_000;
  server.listen(0, '127.0.0.1', () => console.log(`READY http://127.0.0.1:${(server.address() as { port: number }).port}`));
} else {
  throw new Error(`unknown role ${String(role)}`);
}
