/**
 * Resolves the OTLP exporter's settings from options first, then from the standard
 * `OTEL_*` environment variables (OpenTelemetry's "OTLP Exporter Configuration"), then
 * from the specification's defaults. Kept apart from the exporter so the precedence
 * rules are read and tested in one place.
 */

export type OtlpProtocol = 'http/protobuf' | 'http/json';
export type OtlpTemporality = 'cumulative' | 'delta' | 'lowmemory';
export type Env = Readonly<Record<string, string | undefined>>;

export const DEFAULT_METRICS_ENDPOINT = 'http://localhost:4318/v1/metrics';

/** Which OTLP signal the settings are for: it picks the `OTEL_EXPORTER_OTLP_<SIGNAL>_*` variables and the `/v1/<signal>` path. */
export type OtlpSignal = 'metrics' | 'traces';
export const DEFAULT_SERVICE_NAME = 'flowmeter';
/** The OTLP exporter's default request timeout, in milliseconds. */
export const DEFAULT_TIMEOUT_MILLIS = 10_000;

export interface OtlpSettingsInput {
  readonly endpoint?: string;
  readonly protocol?: OtlpProtocol;
  readonly headers?: Readonly<Record<string, string>>;
  readonly temporality?: OtlpTemporality;
  readonly timeoutMillis?: number;
  readonly serviceName?: string;
}

export interface OtlpSettings {
  readonly url: string;
  readonly protocol: OtlpProtocol;
  readonly headers: Record<string, string>;
  readonly temporality: OtlpTemporality;
  readonly timeoutMillis: number;
  readonly serviceName: string;
  /** From OTEL_RESOURCE_ATTRIBUTES; `serviceName` (options, then OTEL_SERVICE_NAME) wins over its `service.name`. */
  readonly resourceAttributes: Record<string, string>;
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}

/**
 * The signal-specific variable is used as is; the generic one is a base URL to which
 * `v1/metrics` is appended (the spec's rule, so `http://collector:4318` works).
 */
function resolveUrl(option: string | undefined, env: Env, signal: OtlpSignal): string {
  const specificName = `OTEL_EXPORTER_OTLP_${signal.toUpperCase()}_ENDPOINT`;
  const specific = nonEmpty(env[specificName]);
  const generic = nonEmpty(env['OTEL_EXPORTER_OTLP_ENDPOINT']);
  const url =
    option ?? specific ?? (generic === undefined ? `http://localhost:4318/v1/${signal}` : generic.replace(/\/*$/, '/') + `v1/${signal}`);
  try {
    return new URL(url).toString();
  } catch {
    const source = option !== undefined ? 'the `endpoint` option' : specific !== undefined ? specificName : 'OTEL_EXPORTER_OTLP_ENDPOINT';
    throw new Error(`flowmeter otel: ${source} is not a URL (${JSON.stringify(url)}); use e.g. http://localhost:4318/v1/${signal}`);
  }
}

function resolveProtocol(option: OtlpProtocol | undefined, env: Env, signal: OtlpSignal): OtlpProtocol {
  const raw = option ?? nonEmpty(env[`OTEL_EXPORTER_OTLP_${signal.toUpperCase()}_PROTOCOL`]) ?? nonEmpty(env['OTEL_EXPORTER_OTLP_PROTOCOL']);
  if (raw === undefined) return 'http/protobuf';
  if (raw === 'http/protobuf' || raw === 'http/json') return raw;
  throw new Error(
    `flowmeter otel: OTLP protocol ${JSON.stringify(raw)} is not supported; use "http/protobuf" or "http/json" (gRPC collectors also listen on HTTP, port 4318)`,
  );
}

function resolveTemporality(option: OtlpTemporality | undefined, env: Env): OtlpTemporality {
  const raw = option ?? nonEmpty(env['OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE'])?.toLowerCase();
  if (raw === undefined) return 'cumulative';
  if (raw === 'cumulative' || raw === 'delta' || raw === 'lowmemory') return raw;
  throw new Error(
    `flowmeter otel: temporality ${JSON.stringify(raw)} is not supported; use "cumulative", "delta" or "lowmemory"`,
  );
}

function resolveTimeout(option: number | undefined, env: Env, signal: OtlpSignal): number {
  if (option !== undefined) {
    if (Number.isFinite(option) && option > 0) return option;
    throw new Error(`flowmeter otel: timeoutMillis must be a positive number of milliseconds, got ${String(option)}`);
  }
  const raw = nonEmpty(env[`OTEL_EXPORTER_OTLP_${signal.toUpperCase()}_TIMEOUT`]) ?? nonEmpty(env['OTEL_EXPORTER_OTLP_TIMEOUT']);
  const parsed = raw === undefined ? NaN : Number(raw);
  // A bad environment value falls back to the default rather than stopping the app.
  return Number.isFinite(parsed) && parsed > 0 ? parsed : DEFAULT_TIMEOUT_MILLIS;
}

/** Parses the W3C-baggage-like `key1=value1,key2=value2` list of OTEL_*_HEADERS and OTEL_RESOURCE_ATTRIBUTES. */
export function parseKeyValueList(raw: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (raw === undefined) return out;
  for (const pair of raw.split(',')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    const key = decode(pair.slice(0, eq).trim());
    const value = decode(pair.slice(eq + 1).trim());
    if (key !== '') out[key] = value;
  }
  return out;
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

export function resolveOtlpSettings(input: OtlpSettingsInput, env: Env, signal: OtlpSignal = 'metrics'): OtlpSettings {
  const resourceAttributes = parseKeyValueList(env['OTEL_RESOURCE_ATTRIBUTES']);
  return {
    url: resolveUrl(input.endpoint, env, signal),
    protocol: resolveProtocol(input.protocol, env, signal),
    // Generic, then signal-specific, then options: the more specific source wins per key.
    headers: {
      ...parseKeyValueList(env['OTEL_EXPORTER_OTLP_HEADERS']),
      ...parseKeyValueList(env[`OTEL_EXPORTER_OTLP_${signal.toUpperCase()}_HEADERS`]),
      ...input.headers,
    },
    temporality: resolveTemporality(input.temporality, env),
    timeoutMillis: resolveTimeout(input.timeoutMillis, env, signal),
    serviceName:
      input.serviceName ?? nonEmpty(env['OTEL_SERVICE_NAME']) ?? resourceAttributes['service.name'] ?? DEFAULT_SERVICE_NAME,
    resourceAttributes,
  };
}
