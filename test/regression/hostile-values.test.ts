import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createMeter } from '../../src/meter/index.js';
import type { LogWritable } from '../../src/sinks/index.js';
import { PRICED_MODEL, PRICES, harness, openAiResponse } from '../meter/fixtures.js';

/** Issue 13, items 2, 8 and 9: values a hostile but realistic caller passes. */
describe('hostile values', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  function filesMeter(): { meter: ReturnType<typeof createMeter>; runsDir: string; log: string[] } {
    const runsDir = mkdtempSync(join(tmpdir(), 'flowmeter-hostile-'));
    dirs.push(runsDir);
    const log: string[] = [];
    const destination: LogWritable = { write: (chunk: string) => log.push(chunk) };
    const meter = createMeter({ runsDir, log: { destination }, prometheus: false, env: {}, prices: PRICES, onWarning: () => undefined });
    return { meter, runsDir, log };
  }

  it('writes a run whose attributes hold a cycle, a BigInt and a throwing getter, with those values marked', async () => {
    const { meter, runsDir, log } = filesMeter();
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    const attributes = {
      ok: 'kept',
      nested: { depth: 1 },
      cyclic,
      big: 10n,
      get boom(): string {
        throw new Error('getter');
      },
    } as unknown as Record<string, string>;
    const result = await meter.runSettled({ runId: 'hostile-attrs', flowId: 'f', attributes }, () => meter.llmCall({ model: PRICED_MODEL }, () => openAiResponse(2, 1)));
    await meter.close();
    expect(result.ok).toBe(true);
    const dir = join(runsDir, 'hostile-attrs');
    const run = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as { attributes: Record<string, unknown>; input_tokens: number };
    expect(run.attributes).toEqual({ ok: 'kept', nested: { depth: 1 }, cyclic: '[unserializable]', big: '[unserializable]', boom: '[unserializable]' });
    expect(run.input_tokens).toBe(2);
    const events = readFileSync(join(dir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { kind: string }).kind);
    expect(events).toEqual(['run_started', 'llm_call', 'run_finished']);
    expect(readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n')).toHaveLength(1);
    expect(log.join('')).toContain('"type":"flowmeter.run_event.v1"');
    expect(meter.diagnostics().dropped_values).toEqual({ 'attributes.cyclic:unserializable': 1, 'attributes.big:unserializable': 1, 'attributes.boom:unserializable': 1 });
  });

  it('drops token counts and costs past the sane bound, like NaN, so every total stays finite', async () => {
    const { meter } = harness();
    const result = await meter.runSettled({ flowId: 'f' }, async (run) => {
      await meter.llmCall({ model: PRICED_MODEL }, () => openAiResponse(1e308, 5));
      await meter.llmCall({ model: PRICED_MODEL }, () => openAiResponse(1e308, 5));
      run.tokensIn(PRICED_MODEL, 1e300);
      await meter.llmCall({ model: PRICED_MODEL, usage: () => ({ inputTokens: 3, outputTokens: 4, costUsd: 1e300 }) }, () => 'x');
    });
    expect(result.event).toMatchObject({ input_tokens: null, output_tokens: 14, llm_calls: 3 });
    const { distributions } = meter.snapshot();
    for (const distribution of Object.values(distributions)) expect(Number.isFinite(distribution.sum)).toBe(true);
    expect(distributions.total_tokens?.count).toBe(0);
    expect(meter.diagnostics().dropped_values).toMatchObject({ 'input_tokens:too_large': 2, 'tokens_in:too_large': 1, 'cost_usd:too_large': 1 });
    expect(meter.metrics()).not.toMatch(/ [+-]?Inf$| NaN$/m);
  });

  it('keeps each usage field of the run on its own when one call reports a bad one', async () => {
    const { meter } = harness();
    const result = await meter.runSettled({ flowId: 'f' }, () =>
      meter.llmCall({ model: PRICED_MODEL, usage: 'openai' }, () => ({ usage: { prompt_tokens: Number.NaN, completion_tokens: 5 } })),
    );
    // Before: output_tokens null on the run although the call said 5.
    expect(result.event).toMatchObject({ input_tokens: null, output_tokens: 5, total_tokens: null, cost_usd: null });
  });
});
