import { createSocket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { OtelExporter } from '../../src/export/otel.js';
import { StatsdExporter } from '../../src/export/statsd.js';
import { InMemorySink, createMeter } from '../../src/index.js';
import type { Sink } from '../../src/index.js';

/**
 * The fan-out: every exporter gets every event; a failing or stuck one delays neither the
 * run nor the others, and its failures are counted.
 */
describe('fan-out to several exporters at once', () => {
  it('keeps the run and the healthy exporters going while one exporter fails and one hangs', async () => {
    const udp = createSocket('udp4');
    const packets: string[] = [];
    udp.on('message', (msg) => packets.push(msg.toString('utf8')));
    await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
    const { port } = udp.address();

    const memory = new InMemorySink();
    const hanging: Sink = { name: 'hanging', write: () => new Promise<void>(() => undefined) };
    const failing: Sink = { name: 'failing', write: () => Promise.reject(new Error('collector down')) };
    const statsd = new StatsdExporter({ host: '127.0.0.1', port, bufferFlushIntervalMillis: 10, env: {} });
    // Nothing listens on port 1: the OTLP export fails when it is flushed.
    const otelErrors: unknown[] = [];
    const otel = new OtelExporter({ endpoint: 'http://127.0.0.1:1/v1/metrics', exportIntervalMillis: 60_000, timeoutMillis: 300, env: {}, onError: (e) => otelErrors.push(e) });
    const meter = createMeter({ runsDir: false, log: false, env: {}, onWarning: () => undefined, flushTimeoutMs: 2_000, sinks: [hanging, failing, otel, statsd, memory] });

    const started = performance.now();
    for (let i = 0; i < 5; i++) {
      const result = await meter.runSettled({ flowId: 'fan', agent: 'A' }, async (run) => {
        await run.llmCall({ model: 'gpt-4o', provider: 'openai' }, () => ({ usage: { prompt_tokens: 5, completion_tokens: 1 } }));
        await run.toolCall('search', () => 'ok');
      });
      expect(result.ok).toBe(true);
    }
    const runMs = performance.now() - started;
    await meter.close();

    // Every healthy exporter saw every run.
    expect(memory.ofKind('run_finished')).toHaveLength(5);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const lines = packets.join('\n').split('\n');
    expect(lines.filter((l) => l.startsWith('flowmeter.runs:'))).toHaveLength(5);
    expect(lines.filter((l) => l.startsWith('flowmeter.llm.request.duration:'))).toHaveLength(5);
    // The bad ones were counted, not thrown; a generous bound shows nobody waited on them.
    const errors = meter.diagnostics().sink_errors;
    expect(errors.failing).toBeGreaterThan(0);
    expect(errors.hanging).toBeGreaterThan(0);
    // The OTLP export failed at close and said so through its error channel.
    expect(otelErrors.length).toBeGreaterThan(0);
    expect(runMs).toBeLessThan(5_000);
    udp.close();
  });
});
