import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrometheusView } from '../../src/export/prometheus/index.js';
import { PushgatewayError, groupingPath, pushMetrics } from '../../src/export/pushgateway.js';
import { freePort, sampleValue } from '../server/helpers.js';
import { hasPushgateway, pushgatewayTitle, skipPushgateway, startPushgateway } from '../server/fixtures/pushgateway.js';
import type { RunningPushgateway } from '../server/fixtures/pushgateway.js';
import { runFinished, runStarted } from '../sinks/fixtures.js';

describe('groupingPath', () => {
  it('puts the job and the grouping labels in the path', () => {
    expect(groupingPath('flowmeter', { flow_id: 'triage' })).toBe('metrics/job/flowmeter/flow_id/triage');
  });

  it('base64url-encodes a value with a slash, and writes an empty value as @base64/=', () => {
    expect(groupingPath('nightly/batch', { flow_id: 'a/b?', branch: '' })).toBe(
      `metrics/job@base64/${Buffer.from('nightly/batch').toString('base64url')}/flow_id@base64/${Buffer.from('a/b?').toString('base64url')}/branch@base64/=`,
    );
  });

  it('percent-encodes other characters', () => {
    expect(groupingPath('j', { flow_id: 'hello world' })).toBe('metrics/job/j/flow_id/hello%20world');
  });

  it('refuses an empty job, a bad label name, and job among the grouping labels', () => {
    expect(() => groupingPath('')).toThrow(/job/);
    expect(() => groupingPath('j', { 'flow-id': 'x' })).toThrow(/not a label name/);
    expect(() => groupingPath('j', { job: 'x' })).toThrow(/put the job in `job`/);
  });
});

/** A stand-in gateway that answers as told and remembers what it got. */
async function fakeGateway(answer: (res: ServerResponse) => void): Promise<{ url: string; seen: { method?: string; url?: string; headers: IncomingHttpHeaders }[]; close: () => Promise<void> }> {
  const seen: { method?: string; url?: string; headers: IncomingHttpHeaders }[] = [];
  const server: Server = createServer((req, res) => {
    seen.push({ method: req.method, url: req.url, headers: req.headers });
    req.resume();
    req.on('end', () => answer(res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, seen, close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve()))) };
}

describe('pushMetrics against a stand-in', () => {
  it('rejects with the status and a one-line body snippet on a non-2xx answer', async () => {
    const gw = await fakeGateway((res) => res.writeHead(503, { 'Content-Type': 'text/plain' }).end('overloaded,\ntry later'));
    try {
      const err = await pushMetrics({ url: gw.url, job: 'j', body: 'x 1\n' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PushgatewayError);
      expect((err as PushgatewayError).status).toBe(503);
      expect((err as Error).message).toBe(`the Pushgateway answered 503 Service Unavailable to PUT ${gw.url}/metrics/job/j: overloaded, try later`);
    } finally {
      await gw.close();
    }
  });

  it('sends PUT by default, POST when asked, with the bearer token or URL credentials as a header', async () => {
    const gw = await fakeGateway((res) => res.writeHead(200).end());
    try {
      await pushMetrics({ url: `${gw.url}/`, job: 'j', body: 'x 1\n', token: 'tok' });
      await pushMetrics({ url: gw.url.replace('http://', 'http://user:p%40ss@'), job: 'j', grouping: { flow_id: 'f' }, body: 'x 1\n', method: 'POST' });
      expect(gw.seen.map((s) => [s.method, s.url, s.headers.authorization])).toEqual([
        ['PUT', '/metrics/job/j', 'Bearer tok'],
        ['POST', '/metrics/job/j/flow_id/f', `Basic ${Buffer.from('user:p@ss').toString('base64')}`],
      ]);
      expect(gw.seen[0]!.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    } finally {
      await gw.close();
    }
  });

  it('gives up after timeoutMs', async () => {
    const gw = await fakeGateway(() => undefined);
    try {
      await expect(pushMetrics({ url: gw.url, job: 'j', body: '', timeoutMs: 100 })).rejects.toThrow(`cannot push to the Pushgateway at ${gw.url}: no answer within 100 ms`);
    } finally {
      await gw.close();
    }
  });

  it('says the gateway is unreachable when nothing listens', async () => {
    const port = await freePort();
    await expect(pushMetrics({ url: `http://127.0.0.1:${port}`, job: 'j', body: '' })).rejects.toThrow(
      `cannot push to the Pushgateway at http://127.0.0.1:${port}: connection refused (is the Pushgateway running?)`,
    );
  });

  it('refuses something that is not an http URL', async () => {
    await expect(pushMetrics({ url: 'localhost:9091', job: 'j', body: '' })).rejects.toThrow(/not an http\(s\) URL|not a URL/);
  });
});

describe.skipIf(skipPushgateway)(`pushMetrics to a real Pushgateway${pushgatewayTitle}`, () => {
  let gateway: RunningPushgateway | undefined;

  beforeAll(async () => {
    // In CI a missing binary throws here, failing these tests with the reason.
    gateway = await startPushgateway();
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  it('has prometheus-pushgateway installed (CI installs it)', () => {
    expect(hasPushgateway, 'prometheus-pushgateway is required; install it with scripts/ci-deps.sh').toBe(true);
  });

  it('delivers a view\'s text exposition, grouped by job and flow_id', async () => {
    const view = new PrometheusView();
    view.record(runStarted('r1'));
    view.record(runFinished('r1'));
    const flow = runStarted('r1').run.flow_id;
    await pushMetrics({ url: gateway!.url, job: 'flowmeter-test', grouping: { flow_id: flow }, body: view.render('text') });
    const text = await gateway!.metrics();
    expect(sampleValue(text, 'flowmeter_runs_started_total', { job: 'flowmeter-test', flow_id: flow })).toBe(1);
    expect(sampleValue(text, 'push_time_seconds', { job: 'flowmeter-test', flow_id: flow })).toBeGreaterThan(0);
  });

  it('keeps a grouping value with a slash intact', async () => {
    await pushMetrics({ url: gateway!.url, job: 'nightly/batch', grouping: { flow_id: 'team/triage' }, body: '# TYPE batch_items_total counter\nbatch_items_total 7\n' });
    expect(sampleValue(await gateway!.metrics(), 'batch_items_total', { job: 'nightly/batch', flow_id: 'team/triage' })).toBe(7);
  });

  it('replaces the whole group on a second PUT', async () => {
    const body = (name: string): string => `# TYPE ${name} gauge\n${name} 1\n`;
    await pushMetrics({ url: gateway!.url, job: 'replace', body: body('first_gauge') });
    await pushMetrics({ url: gateway!.url, job: 'replace', body: body('second_gauge') });
    const text = await gateway!.metrics();
    expect(sampleValue(text, 'second_gauge', { job: 'replace' })).toBe(1);
    expect(sampleValue(text, 'first_gauge', { job: 'replace' })).toBeUndefined();
  });

  it('rejects with status 400 when the gateway cannot parse the body', async () => {
    const err = await pushMetrics({ url: gateway!.url, job: 'bad', body: 'this is { not an exposition\n' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PushgatewayError);
    expect((err as PushgatewayError).status).toBe(400);
    expect((err as Error).message).not.toContain('\n');
  });
});
