import { afterAll, beforeAll } from 'vitest';
import { createMeter } from '../../src/meter/index.js';
import type { Meter } from '../../src/meter/index.js';
import { InMemorySink } from '../../src/sinks/index.js';
import { startMockUpstream } from '../proxy/mock-upstream.js';
import type { MockUpstream } from '../proxy/mock-upstream.js';

export interface IntegrationHarness {
  readonly upstream: MockUpstream;
  readonly meter: Meter;
  readonly sink: InMemorySink;
}

/**
 * For a suite: a local upstream speaking the providers' wire formats and a meter recording
 * into memory, started before the suite (handed to `take`) and closed after it.
 */
export function withUpstreamAndMeter(take: (h: IntegrationHarness) => void): void {
  let h: IntegrationHarness | undefined;
  beforeAll(async () => {
    const sink = new InMemorySink();
    h = { upstream: await startMockUpstream(), sink, meter: createMeter({ runsDir: false, log: false, store: false, env: {}, sinks: [sink] }) };
    take(h);
  });
  afterAll(async () => {
    await h?.meter.close();
    await h?.upstream.close();
  });
}
