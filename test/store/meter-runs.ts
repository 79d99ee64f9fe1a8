import { createMeter } from '../../src/meter/index.js';
import type { Meter, MeterOptions } from '../../src/meter/index.js';
import { mulberry32 } from '../stats/fixtures.js';
import { PRICES, PRICED_MODEL, UNPRICED_MODEL, openAiResponse } from '../meter/fixtures.js';

/** A meter writing run folders and the store under `dir` (the store beside the runs folder, as by default). */
export function storeMeter(dir: string, options: MeterOptions = {}): Meter {
  return createMeter({ runsDir: `${dir}/runs`, log: false, env: {}, prices: PRICES, onWarning: () => undefined, ...options });
}

/**
 * `n` real runs through the SDK: three flows, two models (one unpriced), tool calls, a
 * retry now and then, and failures, with seeded token counts.
 */
export async function makeRuns(meter: Meter, n: number, seed = 3): Promise<void> {
  const random = mulberry32(seed);
  const flows = ['support', 'billing', 'search'];
  for (let i = 0; i < n; i++) {
    const fail = random() < 0.15;
    const labelled: Record<string, boolean> = i % 3 === 0 ? { expected: random() < 0.5, actual: random() < 0.5 } : {};
    await meter
      .run({ flowId: flows[i % 3], agent: i % 2 === 0 ? 'triage' : 'writer', appId: i % 4 === 0 ? 'mobile' : 'web', attributes: labelled }, async (run) => {
        const calls = 1 + Math.floor(random() * 3);
        for (let c = 0; c < calls; c++) {
          const model = random() < 0.8 ? PRICED_MODEL : UNPRICED_MODEL;
          await run.llmCall({ model, provider: 'openai', stepId: 'answer' }, () => openAiResponse(10 + Math.floor(random() * 500), 5 + Math.floor(random() * 200)));
        }
        if (random() < 0.3) await run.toolCall('search', () => 'ok');
        if (random() < 0.2) run.retry('rate_limit', 0.25);
        if (fail) throw new TypeError('the agent failed');
      })
      .catch(() => undefined);
  }
}
