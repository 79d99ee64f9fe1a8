import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createMeter } from '../../src/index.js';

describe('meter.serve() and meter.metrics()', () => {
  it('serves what the meter recorded on /metrics, in the chosen profiles', async () => {
    const meter = createMeter({ runsDir: false, log: false, env: {}, prometheus: { profiles: ['default', 'arx'] } });
    await meter.runSettled({ flowId: 'triage', agent: 'SUPPORT_AI' }, (run) => run.llmCall({ model: 'gpt-4o', provider: 'openai' }, () => ({ usage: { prompt_tokens: 12, completion_tokens: 3 } })));
    const server = await meter.serve({ port: 0 });
    try {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const response = await fetch(`${server.url}/metrics`);
      expect(response.status).toBe(200);
      const text = await response.text();
      expect(text).toContain('flowmeter_runs_finished_total{flow_id="triage",agent="SUPPORT_AI",outcome="success",partial="false"} 1');
      expect(text).toMatch(/ar_tokens_total\{direction="in",model="gpt-4o",persona="SUPPORT_AI"\} 12/);
      expect(text).toBe(meter.metrics('text'));
      expect(await meter.serve({ port: 0 })).toBe(server);
    } finally {
      await meter.close();
    }
    // close() stopped the server.
    await expect(fetch(`${server.url}/metrics`)).rejects.toThrow();
  });

  it('rejects with one clear line when the port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as AddressInfo;
    const meter = createMeter({ runsDir: false, log: false, env: {} });
    try {
      const error = await meter.serve({ port }).then(() => null, (e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toMatch(new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: address already in use`));
      expect((error as Error).message.split('\n')).toHaveLength(1);
    } finally {
      await meter.close();
      blocker.close();
    }
  });

  it('has no exposition when metrics are off or the prometheus option is false', async () => {
    const off = createMeter({ enabled: false, runsDir: false, log: false, env: {} });
    expect(off.metrics()).toBe('');
    await expect(off.serve({ port: 0 })).rejects.toThrow(/metrics are off/);
    const none = createMeter({ prometheus: false, runsDir: false, log: false, env: {} });
    expect(none.metrics()).toBe('');
    await none.close();
    await off.close();
  });

  it('reads the profiles from FLOWMETER_PROFILE and names a bad one at construction', () => {
    const meter = createMeter({ runsDir: false, log: false, env: { FLOWMETER_PROFILE: 'enzu' } });
    expect(meter.metrics()).toContain('# TYPE enzu_runs_total counter');
    expect(meter.metrics()).not.toContain('flowmeter_runs_started_total');
    expect(() => createMeter({ runsDir: false, log: false, env: { FLOWMETER_PROFILE: 'arx,prom' } })).toThrow(/FLOWMETER_PROFILE: .*prom/);
  });
});
