import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { OtelExporter } from '../../src/export/otel.js';
import { providerName } from '../../src/export/otel-semconv.js';
import { llmCall, runFinished, toolCall } from '../sinks/fixtures.js';

/** An OTLP/HTTP endpoint that answers every POST with `status` and counts them. */
async function startEndpoint(status: number): Promise<{ url: string; posts: () => number; close(): Promise<void> }> {
  let posts = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      posts++;
      res.writeHead(status, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return { url: `http://127.0.0.1:${port}/v1/metrics`, posts: () => posts, close };
}

/** A port nobody listens on: bind one, then let it go. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

describe('OtelExporter when the collector is not there', () => {
  it('reports an unreachable collector to onError and never throws from write', async () => {
    const onError = vi.fn();
    // A short timeout: connection refused is retryable, and the retry backoff outlasts it.
    const exporter = new OtelExporter({ endpoint: `http://127.0.0.1:${await closedPort()}/v1/metrics`, timeoutMillis: 200, onError, env: {} });
    cleanup.push(() => exporter.close());
    expect(() => exporter.write([llmCall(), toolCall(), runFinished()])).not.toThrow();
    await exporter.flush();
    expect(onError).toHaveBeenCalledTimes(1);
    expect(onError.mock.calls[0]![0]).toBeInstanceOf(Error);
  });

  it('reports a collector that rejects the payload', async () => {
    const endpoint = await startEndpoint(400);
    const onError = vi.fn();
    const exporter = new OtelExporter({ endpoint: endpoint.url, protocol: 'http/json', onError, env: {} });
    cleanup.push(() => endpoint.close(), () => exporter.close());
    exporter.write([llmCall()]);
    await exporter.flush();
    expect(endpoint.posts()).toBe(1);
    expect(onError).toHaveBeenCalledTimes(1);
  });

  it('keeps going when onError itself throws', async () => {
    const onError = () => {
      throw new Error('handler broke');
    };
    const exporter = new OtelExporter({ endpoint: `http://127.0.0.1:${await closedPort()}/v1/metrics`, timeoutMillis: 200, onError, env: {} });
    cleanup.push(() => exporter.close());
    exporter.write([llmCall()]);
    await expect(exporter.flush()).resolves.toBeUndefined();
  });
});

describe('OtelExporter lifecycle', () => {
  it('exports what is left on close, closes twice without harm and reports writes after close', async () => {
    const endpoint = await startEndpoint(200);
    const onError = vi.fn();
    const exporter = new OtelExporter({ endpoint: endpoint.url, protocol: 'http/json', onError, env: {} });
    cleanup.push(() => endpoint.close());
    exporter.write([llmCall()]);
    const first = exporter.close();
    expect(exporter.close()).toBe(first);
    await first;
    expect(endpoint.posts()).toBe(1);
    exporter.write([llmCall()]);
    expect(onError).toHaveBeenCalledTimes(1);
    await exporter.flush();
    expect(endpoint.posts()).toBe(1);
  });

  it('sends nothing before the export interval or a flush', async () => {
    const endpoint = await startEndpoint(200);
    const exporter = new OtelExporter({ endpoint: endpoint.url, exportIntervalMillis: 60_000, env: {} });
    cleanup.push(() => endpoint.close(), () => exporter.close());
    exporter.write([llmCall()]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(endpoint.posts()).toBe(0);
  });

  it('refuses an unsupported protocol, interval or endpoint at construction, saying what to use', () => {
    expect(() => new OtelExporter({ env: { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' } })).toThrow(/http\/protobuf/);
    expect(() => new OtelExporter({ exportIntervalMillis: 0, env: {} })).toThrow(/exportIntervalMillis/);
    expect(() => new OtelExporter({ endpoint: 'not a url', env: {} })).toThrow(/endpoint/);
  });

  it('resolves endpoint and protocol from OTEL_EXPORTER_OTLP_ENDPOINT and OTEL_EXPORTER_OTLP_PROTOCOL', () => {
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' };
    const exporter = new OtelExporter({ env });
    cleanup.push(() => exporter.close());
    expect([exporter.endpoint, exporter.protocol]).toEqual(['http://collector:4318/v1/metrics', 'http/json']);
  });
});

describe('providerName', () => {
  it('uses the well-known gen_ai.provider.name values, which semconv says MUST be used', () => {
    expect(['openai', 'Anthropic', 'bedrock', 'google', 'vertex', 'mistral', 'xai', 'acme'].map(providerName)).toEqual([
      'openai', 'anthropic', 'aws.bedrock', 'gcp.gemini', 'gcp.vertex_ai', 'mistral_ai', 'x_ai', 'acme',
    ]);
  });
});
