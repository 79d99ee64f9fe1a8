import { networkInterfaces } from 'node:os';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OPENMETRICS_CONTENT_TYPE, TEXT_CONTENT_TYPE } from '../../src/export/prometheus/index.js';
import type { ExpositionFormat } from '../../src/export/prometheus/index.js';
import { MetricsServerError, startMetricsServer } from '../../src/server/index.js';
import type { MetricsServer } from '../../src/server/index.js';
import { blockPort } from './helpers.js';

const PROMETHEUS_2_ACCEPT = 'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';
const PROMETHEUS_3_ACCEPT =
  'application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2';

function render(format: ExpositionFormat): string {
  return format === 'openmetrics' ? '# TYPE up gauge\nup 1\n# EOF\n' : '# TYPE up gauge\nup 1\n';
}

describe('the metrics server', () => {
  let server: MetricsServer;

  beforeAll(async () => {
    server = await startMetricsServer({ port: 0, render, health: () => ({ files: 3 }) });
  });
  afterAll(() => server.close());

  it('serves Prometheus text 0.0.4 to curl, which accepts */*', async () => {
    const res = await fetch(`${server.url}/metrics`, { headers: { accept: '*/*' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(TEXT_CONTENT_TYPE);
    expect(await res.text()).toBe('# TYPE up gauge\nup 1\n');
  });

  it('serves Prometheus text when there is no Accept header', async () => {
    const res = await fetch(`${server.url}/metrics`, { headers: { accept: '' } });
    expect(res.headers.get('content-type')).toBe(TEXT_CONTENT_TYPE);
  });

  it.each([
    ['Prometheus 2.x', PROMETHEUS_2_ACCEPT],
    ['Prometheus 3.x', PROMETHEUS_3_ACCEPT],
  ])('serves OpenMetrics 1.0 to the Accept header %s sends', async (_name, accept) => {
    const res = await fetch(`${server.url}/metrics`, { headers: { accept } });
    expect(res.headers.get('content-type')).toBe(OPENMETRICS_CONTENT_TYPE);
    expect(await res.text()).toMatch(/# EOF\n$/);
  });

  it('ignores a query string on /metrics', async () => {
    expect((await fetch(`${server.url}/metrics?debug=1`)).status).toBe(200);
  });

  it('answers HEAD /metrics with the headers and no body', async () => {
    const res = await fetch(`${server.url}/metrics`, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(TEXT_CONTENT_TYPE);
    expect(res.headers.get('content-length')).toBe(String(Buffer.byteLength(render('text'))));
    expect(await res.text()).toBe('');
  });

  it('answers /healthz with status ok and the health fields', async () => {
    const res = await fetch(`${server.url}/healthz`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({ status: 'ok', files: 3 });
  });

  it('answers another path with 404 and a JSON error', async () => {
    const res = await fetch(`${server.url}/api/runs`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: 'not found' });
  });

  it('answers POST /metrics with 405 and Allow', async () => {
    const res = await fetch(`${server.url}/metrics`, { method: 'POST', body: 'x' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD');
    expect(((await res.json()) as { error: string }).error).toMatch(/POST not allowed/);
  });

  it('binds 127.0.0.1 by default', async () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    const external = Object.values(networkInterfaces())
      .flat()
      .find((i) => i !== undefined && i.family === 'IPv4' && !i.internal);
    // Where the host has another address, the server must not answer on it.
    if (external !== undefined) await expect(fetch(`http://${external.address}:${server.port}/healthz`)).rejects.toThrow();
  });
});

describe('the metrics server with a token', () => {
  let server: MetricsServer;

  beforeAll(async () => {
    server = await startMetricsServer({ port: 0, render, token: 's3cret-token' });
  });
  afterAll(() => server.close());

  it('returns 401 without a token', async () => {
    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(((await res.json()) as { error: string }).error).toMatch(/unauthorized/);
  });

  it('returns 401 with a wrong token, a prefix of it, or another scheme', async () => {
    for (const authorization of ['Bearer wrong', 'Bearer s3cret', 'Bearer s3cret-token-and-more', 'Basic s3cret-token']) {
      expect((await fetch(`${server.url}/metrics`, { headers: { authorization } })).status, authorization).toBe(401);
    }
  });

  it('returns 200 with the right token', async () => {
    const res = await fetch(`${server.url}/metrics`, { headers: { authorization: 'Bearer s3cret-token' } });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('up 1');
  });

  it('guards /healthz too', async () => {
    expect((await fetch(`${server.url}/healthz`)).status).toBe(401);
    expect((await fetch(`${server.url}/healthz`, { headers: { authorization: 'bearer s3cret-token' } })).status).toBe(200);
  });
});

describe('the metrics server when something fails', () => {
  const servers: MetricsServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  it('answers a failing render with 500 and the message, no stack trace', async () => {
    const server = await startMetricsServer({
      port: 0,
      render: () => {
        throw new Error('registry is gone\n    at somewhere (file.ts:1:1)');
      },
    });
    servers.push(server);
    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(500);
    const body = await res.text();
    expect(JSON.parse(body)).toEqual({ error: 'registry is gone' });
    expect(body).not.toMatch(/\bat /);
  });

  it('rejects a port in use with a MetricsServerError of one line', async () => {
    const blocked = await blockPort();
    try {
      const err: unknown = await startMetricsServer({ port: blocked.port, render }).then(
        (s) => (servers.push(s), undefined),
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(MetricsServerError);
      expect((err as Error).message).toBe(
        `cannot listen on 127.0.0.1:${blocked.port}: address already in use (another flowmeter serve or exporter is running; pick another port with --port)`,
      );
    } finally {
      await blocked.close();
    }
  });

  it('rejects an address this host does not have', async () => {
    // Documentation addresses (RFC 5737); some test hosts use one range, so take one the host lacks.
    const own = new Set(Object.values(networkInterfaces()).flat().map((i) => i?.address));
    const addr = ['198.51.100.77', '203.0.113.77', '192.0.2.77'].find((a) => !own.has(a))!;
    await expect(startMetricsServer({ port: 0, addr, render })).rejects.toThrow(`cannot listen on ${addr}:0: address not available on this host`);
  });

  it('rejects a port out of range', async () => {
    await expect(startMetricsServer({ port: 70000, render })).rejects.toThrow(MetricsServerError);
  });

  it('closes idempotently and stops answering', async () => {
    const server = await startMetricsServer({ port: 0, render });
    await fetch(`${server.url}/metrics`);
    await Promise.all([server.close(), server.close()]);
    await server.close();
    await expect(fetch(`${server.url}/metrics`)).rejects.toThrow();
  });
});
