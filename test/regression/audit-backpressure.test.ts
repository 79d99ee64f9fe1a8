import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import { MeterConfigError, createMeter } from '../../src/meter/index.js';
import { InMemorySink } from '../../src/sinks/index.js';
import { PRICED_MODEL, PRICES, openAiResponse } from '../meter/fixtures.js';

/**
 * Issue 13.3: queue overflow was counted but lost most of a large run (an SDK loop of
 * 100k instant calls kept 65,535 lines; a 100k-op workflow kept 32,768), and a dropped
 * step end left the in-flight count of a reader of events.jsonl stuck.
 */
const dir = mkdtempSync(join(tmpdir(), 'flowmeter-backpressure-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function lines(path: string): string[] {
  return readFileSync(path, 'utf8').split('\n').filter((l) => l !== '');
}

async function loop(onFull: 'wait' | 'drop', calls: number): Promise<{ metrics: number; dropped: number }> {
  const runsDir = join(dir, `sdk-${onFull}`);
  const meter = createMeter({ runsDir, log: false, prometheus: false, env: {}, prices: PRICES, queueCapacity: 500, onFull, onWarning: () => undefined });
  await meter.runSettled({ runId: 'loop', flowId: 'f' }, async () => {
    for (let i = 0; i < calls; i++) await meter.llmCall({ model: PRICED_MODEL }, () => openAiResponse(1, 1));
  });
  await meter.close();
  return { metrics: lines(join(runsDir, 'loop', 'metrics.jsonl')).length, dropped: meter.diagnostics().dropped_events };
}

describe('audit queue backpressure', () => {
  it("keeps every line of a loop of instant calls with onFull: 'wait'", async () => {
    expect(await loop('wait', 20_000)).toEqual({ metrics: 20_000, dropped: 0 });
  });

  it("still drops and counts with the default onFull: 'drop'", async () => {
    const { metrics, dropped } = await loop('drop', 5_000);
    expect(metrics).toBeLessThan(5_000);
    expect(metrics + dropped).toBeGreaterThanOrEqual(5_000);
  });

  it('rejects an onFull it does not know at construction', () => {
    expect(() => createMeter({ onFull: 'block' as 'wait', env: {} })).toThrow(MeterConfigError);
  });

  it('queues the end of every step whose start was queued, and no end whose start was dropped', async () => {
    const sink = new InMemorySink();
    const meter = createMeter({ runsDir: false, log: false, prometheus: false, env: {}, sinks: [sink], queueCapacity: 10, onWarning: () => undefined });
    const run = meter.flowStart({ flowId: 'f' });
    // Synchronously: the queue fills with starts and nothing drains in between.
    const timers = Array.from({ length: 100 }, (_, i) => run.stepTimer(`s${i}`));
    for (const timer of timers) timer.end(true);
    run.flowEnd(true);
    await meter.close();
    const started = sink.ofKind('step_started').map((e) => e.step_id);
    const finished = sink.ofKind('step_finished').map((e) => e.step_id);
    expect(started.length).toBeGreaterThan(0);
    expect(finished).toEqual(started);
    expect(sink.ofKind('run_finished')).toHaveLength(1);
    expect(meter.inflightSteps().get('f')).toBe(0);
  });

  it('flowmeter run waits for the queue: a workflow of 1,500 calls writes 1,500 lines with a queue of 64', async () => {
    const file = join(dir, 'wide.ais');
    const asks = Array.from({ length: 1500 }, (_, i) => `    ask("question ${i}: " + x) -> a${i}`).join('\n');
    writeFileSync(file, `agent A {\n  @entry flow main(x: str) -> str {\n${asks}\n    return a0\n  }\n}\n`);
    const runsDir = join(dir, 'cli-runs');
    const io: CliIo = { out: () => undefined, err: () => undefined };
    const saved = process.env.FLOWMETER_QUEUE_CAPACITY;
    process.env.FLOWMETER_QUEUE_CAPACITY = '64';
    try {
      expect(await main(['run', file, '--dry-run', '--time-scale', '0.0001', '-O0', '--quiet', '--input', 'x=1', '--runs-dir', runsDir, '--cache-dir', join(dir, 'cache')], io)).toBe(0);
    } finally {
      if (saved === undefined) delete process.env.FLOWMETER_QUEUE_CAPACITY;
      else process.env.FLOWMETER_QUEUE_CAPACITY = saved;
    }
    const { readdirSync } = await import('node:fs');
    const [run] = readdirSync(runsDir);
    expect(lines(join(runsDir, run!, 'metrics.jsonl'))).toHaveLength(1500);
  }, 30_000);
});
