import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { push } from '../../src/cli/push.js';
import { createMeter } from '../../src/index.js';
import { capture, freePort, sampleValue } from '../server/helpers.js';
import { pushgatewayTitle, skipPushgateway, startPushgateway } from '../server/fixtures/pushgateway.js';
import type { RunningPushgateway } from '../server/fixtures/pushgateway.js';

let dir: string;
let runsDir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'flowmeter-push-'));
  runsDir = join(dir, 'runs');
  const meter = createMeter({ runsDir, log: false });
  for (const flow of ['alpha', 'alpha', 'beta']) {
    await meter.runSettled({ flowId: flow, agent: 'batcher' }, (run) => run.llmCall({ model: 'gpt-4o', provider: 'openai' }, () => ({ usage: { prompt_tokens: 50, completion_tokens: 5 } })));
  }
  await meter.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(skipPushgateway)(`flowmeter push to a real Pushgateway${pushgatewayTitle}`, () => {
  let gateway: RunningPushgateway | undefined;

  beforeAll(async () => {
    // In CI a missing binary throws here, failing these tests with the reason.
    gateway = await startPushgateway();
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  it('pushes one flow\'s runs to the group {job, flow_id}', async () => {
    const io = capture();
    expect(await main(['push', '--pushgateway', gateway!.url, '--runs-dir', runsDir, '--job', 'nightly', '--flow', 'alpha'], io)).toBe(0);
    expect(io.stderr).toEqual([]);
    expect(io.stdout).toEqual([expect.stringMatching(/^flowmeter: pushed \d+ events of 2 runs to http:\/\/127\.0\.0\.1:\d+ \(job="nightly", flow_id="alpha"\)$/)]);
    const text = await gateway!.metrics();
    expect(sampleValue(text, 'flowmeter_runs_finished_total', { job: 'nightly', flow_id: 'alpha', agent: 'batcher', outcome: 'success' })).toBe(2);
    expect(sampleValue(text, 'flowmeter_runs_finished_total', { flow_id: 'beta' })).toBeUndefined();
    // Families without a flow_id label get it from the group.
    expect(sampleValue(text, 'flowmeter_tokens_total', { job: 'nightly', flow_id: 'alpha', direction: 'input' })).toBe(100);
  });

  it('pushes every flow to the group {job} without --flow, with the chosen profile', async () => {
    const io = capture();
    expect(await main(['push', '--pushgateway', gateway!.url, '--runs-dir', runsDir, '--job', 'all-flows', '--profile', 'arx'], io)).toBe(0);
    const text = await gateway!.metrics();
    expect(sampleValue(text, 'ar_flow_started_total', { job: 'all-flows', flow_id: 'alpha' })).toBe(2);
    expect(sampleValue(text, 'ar_flow_started_total', { job: 'all-flows', flow_id: 'beta' })).toBe(1);
    expect(sampleValue(text, 'flowmeter_runs_finished_total', { job: 'all-flows' })).toBeUndefined();
  });
});

describe('flowmeter push when it cannot push', () => {
  it('exits 1 with one line when the gateway is unreachable', async () => {
    const port = await freePort();
    const io = capture();
    expect(await main(['push', '--pushgateway', `http://127.0.0.1:${port}`, '--runs-dir', runsDir], io)).toBe(1);
    expect(io.stderr).toEqual([`flowmeter: cannot push to the Pushgateway at http://127.0.0.1:${port}: connection refused (is the Pushgateway running?)`]);
    expect(io.stdout).toEqual([]);
  });

  it('exits 1 with one line for a missing runs folder or a URL that is not one', async () => {
    for (const args of [['--pushgateway', 'http://127.0.0.1:9', '--runs-dir', join(dir, 'nope')], ['--pushgateway', 'gateway:9091', '--runs-dir', runsDir]]) {
      const io = capture();
      expect(await main(['push', ...args], io), args.join(' ')).toBe(1);
      expect(io.stderr).toHaveLength(1);
      expect(io.stderr[0]).toMatch(/^flowmeter: (.*no such runs folder|.*not an http\(s\) URL)/);
    }
  });

  it('exits 2 without --pushgateway', async () => {
    expect(await main(['push', '--runs-dir', runsDir], capture())).toBe(2);
  });

  it('pushes nothing and exits 0 when metrics are disabled, so a batch pipeline does not fail', async () => {
    const port = await freePort();
    const io = capture();
    // Nothing listens on the port: had it tried to push, it would exit 1.
    expect(await push({ pushgateway: `http://127.0.0.1:${port}`, runsDir }, io, { env: { AR_ENABLE_METRICS: '0' } })).toBe(0);
    expect(io.stderr).toEqual(['flowmeter: metrics are disabled (AR_ENABLE_METRICS=0); nothing pushed']);
  });
});
