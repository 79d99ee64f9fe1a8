import { describe, expect, it } from 'vitest';
import { createMeter } from '../../src/meter/index.js';
import { openAiResponse } from '../meter/fixtures.js';

/**
 * Issue 13.6: a runs folder or log path under /proc spun at 100% CPU forever (Node's
 * recursive mkdir never returns there) and the run never resolved. Now it is a counted
 * sink failure and the run ends.
 */
describe.skipIf(process.platform !== 'linux')('a runs folder or log file under /proc', () => {
  it('ends the run and counts the failed sinks', async () => {
    const meter = createMeter({
      runsDir: '/proc/flowmeter-runs/nested',
      log: { destination: { path: '/proc/flowmeter-logs/app.log' } },
      prometheus: false,
      env: {},
      onWarning: () => undefined,
    });
    const result = await meter.runSettled({ flowId: 'f' }, () => meter.llmCall({ model: 'gpt-4o' }, () => openAiResponse(3, 2)));
    await meter.close();
    expect(result.ok).toBe(true);
    expect(result.event).toMatchObject({ input_tokens: 3, output_tokens: 2 });
    const errors = meter.diagnostics().sink_errors;
    expect(errors.jsonl).toBeGreaterThan(0);
    expect(errors.log).toBeGreaterThan(0);
  }, 10_000);
});
