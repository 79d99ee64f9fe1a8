/**
 * The processes of the proxy benchmark, one role each, so the load generator, the
 * upstream and the proxy under test never share an event loop:
 *   upstream <latencyMs> <chunkDelayMs>     the local mock upstream
 *   flowmeter <upstreamUrl> <files|bare>    `flowmeter proxy` as the CLI builds it
 * Each prints `READY <url>` once listening and runs until killed.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMeter } from '../../src/meter/index.js';
import { createProxy } from '../../src/proxy/index.js';
import { startMockUpstream } from '../../test/proxy/mock-upstream.js';

const [role, a, b] = process.argv.slice(2);
if (role === 'upstream') {
  const up = await startMockUpstream({ latencyMs: Number(a ?? 0), chunkDelayMs: Number(b ?? 0) });
  console.log(`READY ${up.url}`);
} else if (role === 'flowmeter') {
  // `bare`: the hot path and the audit queue with no file or store sink (Prometheus only);
  // `files`: the CLI's defaults, run folders and the SQLite store included.
  const dir = mkdtempSync(join(tmpdir(), 'flowmeter-bench-proxy-'));
  const meter = b === 'files' ? createMeter({ runsDir: join(dir, 'runs'), fileWriter: 'thread', log: false }) : createMeter({ runsDir: false, store: false, log: false });
  const proxy = createProxy({ meter, upstreams: [`openai=${a ?? ''}`] });
  const server = await proxy.listen({ port: 0, addr: '127.0.0.1' });
  console.log(`READY ${server.url}`);
} else {
  throw new Error(`unknown role ${String(role)}`);
}
