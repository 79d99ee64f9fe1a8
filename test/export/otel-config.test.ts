import { describe, expect, it } from 'vitest';
import { parseKeyValueList, resolveOtlpSettings } from '../../src/export/otel-config.js';

describe('resolveOtlpSettings', () => {
  it('defaults to http/protobuf on localhost:4318, cumulative, as the OTLP spec does', () => {
    const s = resolveOtlpSettings({}, {});
    expect(s).toMatchObject({
      url: 'http://localhost:4318/v1/metrics',
      protocol: 'http/protobuf',
      temporality: 'cumulative',
      timeoutMillis: 10_000,
      serviceName: 'flowmeter',
      headers: {},
    });
  });

  it('appends v1/metrics to OTEL_EXPORTER_OTLP_ENDPOINT, with or without a trailing slash', () => {
    expect(resolveOtlpSettings({}, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }).url).toBe('http://collector:4318/v1/metrics');
    expect(resolveOtlpSettings({}, { OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otel.example.com/otlp/' }).url).toBe(
      'https://otel.example.com/otlp/v1/metrics',
    );
  });

  it('uses the metrics-specific endpoint as is, and the option over both', () => {
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://b:9090/custom' };
    expect(resolveOtlpSettings({}, env).url).toBe('http://b:9090/custom');
    expect(resolveOtlpSettings({ endpoint: 'http://c:4318/v1/metrics' }, env).url).toBe('http://c:4318/v1/metrics');
  });

  it('reads protocol and temporality from the environment, the metrics-specific protocol first', () => {
    const s = resolveOtlpSettings(
      {},
      {
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
        OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json',
        OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'Delta',
      },
    );
    expect([s.protocol, s.temporality]).toEqual(['http/json', 'delta']);
  });

  it('merges headers generic, then metrics-specific, then options', () => {
    const s = resolveOtlpSettings(
      { headers: { c: 'option' } },
      { OTEL_EXPORTER_OTLP_HEADERS: 'a=generic,b=generic,c=generic', OTEL_EXPORTER_OTLP_METRICS_HEADERS: 'b=metrics' },
    );
    expect(s.headers).toEqual({ a: 'generic', b: 'metrics', c: 'option' });
  });

  it('takes service.name from the option, then OTEL_SERVICE_NAME, then OTEL_RESOURCE_ATTRIBUTES', () => {
    const env = { OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-attrs,deployment.environment=prod' };
    expect(resolveOtlpSettings({}, env).serviceName).toBe('from-attrs');
    expect(resolveOtlpSettings({}, { ...env, OTEL_SERVICE_NAME: 'from-env' }).serviceName).toBe('from-env');
    expect(resolveOtlpSettings({ serviceName: 'from-option' }, { ...env, OTEL_SERVICE_NAME: 'from-env' }).serviceName).toBe('from-option');
    expect(resolveOtlpSettings({}, env).resourceAttributes['deployment.environment']).toBe('prod');
  });

  it('falls back to the default timeout on a bad environment value but throws on a bad option', () => {
    expect(resolveOtlpSettings({}, { OTEL_EXPORTER_OTLP_TIMEOUT: 'soon' }).timeoutMillis).toBe(10_000);
    expect(resolveOtlpSettings({}, { OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: '2500' }).timeoutMillis).toBe(2500);
    expect(() => resolveOtlpSettings({ timeoutMillis: -1 }, {})).toThrow(/timeoutMillis/);
  });

  it('names the variable to fix when it is not a URL or not a supported value', () => {
    expect(() => resolveOtlpSettings({}, { OTEL_EXPORTER_OTLP_ENDPOINT: '::nope' })).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT/);
    expect(() => resolveOtlpSettings({}, { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toThrow(/"http\/protobuf" or "http\/json"/);
    expect(() => resolveOtlpSettings({}, { OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'sometimes' })).toThrow(/cumulative/);
  });
});

describe('parseKeyValueList', () => {
  it('splits key=value pairs, percent-decodes them and skips malformed ones', () => {
    expect(parseKeyValueList('api-key=abc%3D%3D, x = y ,broken,=empty')).toEqual({ 'api-key': 'abc==', x: 'y' });
    expect(parseKeyValueList(undefined)).toEqual({});
  });
});
