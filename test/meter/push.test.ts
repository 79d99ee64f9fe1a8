import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMeter } from '../../src/index.js';
import { hasPushgateway, pushgatewayTitle, skipPushgateway, startPushgateway } from '../server/fixtures/pushgateway.js';
import type { RunningPushgateway } from '../server/fixtures/pushgateway.js';

describe.skipIf(skipPushgateway)(`the meter's Pushgateway push${pushgatewayTitle}`, () => {
  let gateway: RunningPushgateway;

  beforeAll(async () => {
    expect(hasPushgateway, 'prometheus-pushgateway is required; install it with scripts/ci-deps.sh').toBe(true);
    gateway = await startPushgateway();
  });
  afterAll(async () => gateway?.stop());

  it('pushes a batch at close, grouped by job and flow, with only that flow in the group', async () => {
    const meter = createMeter({ runsDir: false, log: false, env: {}, pushgateway: { url: gateway.url, job: 'nightly_eval', flowId: 'alpha' } });
    for (const flowId of ['alpha', 'alpha', 'beta']) {
      await meter.runSettled({ flowId, agent: 'EVAL_AI' }, (run) => run.llmCall({ model: 'gpt-4o', provider: 'openai' }, () => ({ usage: { prompt_tokens: 10, completion_tokens: 2 } })));
    }
    await meter.close();
    expect(meter.diagnostics().sink_errors).toEqual({});
    const text = await (await fetch(`${gateway.url}/metrics`)).text();
    const finished = text.split('\n').filter((l) => l.startsWith('flowmeter_runs_finished_total{') && l.includes('job="nightly_eval"'));
    expect(finished).toHaveLength(1);
    expect(finished[0]).toMatch(/flow_id="alpha"/);
    expect(finished[0]).toMatch(/job="nightly_eval"/);
    expect(finished[0]).toMatch(/ 2$/);
  });

  it('counts an unreachable gateway as a sink error at close instead of throwing', async () => {
    const meter = createMeter({ runsDir: false, log: false, env: {}, onWarning: () => undefined, pushgateway: { url: 'http://127.0.0.1:1', job: 'x' } });
    await meter.runSettled({}, () => undefined);
    await expect(meter.close()).resolves.toBeUndefined();
    expect(meter.diagnostics().sink_errors.pushgateway).toBe(1);
  });
});
