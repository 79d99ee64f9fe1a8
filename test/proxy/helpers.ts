import { createMeter } from '../../src/meter/index.js';
import type { Meter } from '../../src/meter/index.js';
import { createProxy } from '../../src/proxy/index.js';
import type { MeteringProxy, ProxyOptions, ProxyServer } from '../../src/proxy/index.js';
import { InMemorySink } from '../../src/sinks/index.js';
import { startMockUpstream } from './mock-upstream.js';
import type { MockUpstream, MockUpstreamOptions } from './mock-upstream.js';

export interface Rig {
  readonly upstream: MockUpstream;
  readonly meter: Meter;
  readonly sink: InMemorySink;
  readonly proxy: MeteringProxy;
  readonly server: ProxyServer;
  /** Base URL of the proxy's `openai` route: `http://127.0.0.1:<port>/openai/v1`. */
  readonly openaiBase: string;
  readonly anthropicBase: string;
  close(): Promise<void>;
}

export async function startRig(options: Partial<Omit<ProxyOptions, 'meter'>> = {}, mock: MockUpstreamOptions = {}): Promise<Rig> {
  const upstream = await startMockUpstream(mock);
  const sink = new InMemorySink();
  const meter = createMeter({ runsDir: false, log: false, sinks: [sink], env: {} });
  const proxy = createProxy({ meter, upstreams: [`openai=${upstream.url}`, `anthropic=${upstream.url}`], ...options });
  const server = await proxy.listen({ port: 0, addr: '127.0.0.1' });
  return {
    upstream,
    meter,
    sink,
    proxy,
    server,
    openaiBase: `${server.url}/openai/v1`,
    anthropicBase: `${server.url}/anthropic`,
    close: async () => {
      await server.close();
      await proxy.close();
      await meter.close();
      await upstream.close();
    },
  };
}

/** Waits until `check` holds (events reach sinks through the audit queue, after the response). */
export async function until(check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
