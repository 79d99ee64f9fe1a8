/** The collector's API as the dashboard uses it: same origin, bearer token from the login prompt. */

const TOKEN_KEY = 'flowmeter.token';

export class Unauthorized extends Error {}

export function token(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(value: string | null): void {
  if (value === null || value === '') sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, value);
}

export async function api<T>(path: string): Promise<T> {
  const t = token();
  const res = await fetch(new URL(path.replace(/^\//, ''), document.baseURI), { headers: t === null ? {} : { authorization: `Bearer ${t}` } });
  if (res.status === 401) throw new Unauthorized('the server needs a token');
  const body = (await res.json()) as T & { error?: string };
  if (!res.ok) throw new Error(body.error ?? `HTTP ${res.status}`);
  return body;
}

export interface Percentiles {
  readonly p50: number | null;
  readonly p95: number | null;
  readonly p99: number | null;
}

export interface StoredRun {
  readonly run_id: string;
  readonly parent_run_id: string | null;
  readonly flow_id: string;
  readonly agent: string;
  readonly app_id: string | null;
  readonly status: string;
  readonly outcome: string | null;
  readonly model: string | null;
  readonly start_ms: number;
  readonly end_ms: number | null;
  readonly elapsed_seconds: number | null;
  readonly total_tokens: number | null;
  readonly cost_usd: number | null;
  readonly llm_calls: number | null;
  readonly tool_calls: number | null;
  readonly retries: number | null;
  readonly summary: string | null;
}

export interface StoredCall {
  readonly run_id: string;
  readonly seq: number;
  readonly kind: 'llm' | 'tool';
  readonly step_id: string | null;
  readonly model: string | null;
  readonly tool: string | null;
  readonly start_ms: number;
  readonly end_ms: number;
  readonly duration_ms: number;
  readonly ttft_ms: number | null;
  readonly total_tokens: number | null;
  readonly cost_usd: number | null;
  readonly success: boolean;
  readonly error_type: string | null;
  readonly error_message: string | null;
}

export interface RunDetail {
  readonly run: StoredRun;
  readonly steps: readonly { step_id: string; start_ms: number; end_ms: number; duration_ms: number; success: boolean; error: string | null }[];
  readonly calls: readonly StoredCall[];
  readonly retries: readonly { seq: number; step_id: string | null; reason: string; attempt: number; at_ms: number }[];
  readonly children: readonly StoredRun[];
}

export interface ReportGroup {
  readonly group: string;
  readonly runs: number;
  readonly success_rate: number | null;
  readonly cost_per_run_usd: Percentiles;
  readonly time_per_run_seconds: Percentiles;
  readonly tokens_per_run: Percentiles;
  readonly outcomes: Readonly<Record<string, number>>;
  readonly calls: { readonly requests: number; readonly errors: number; readonly error_rate: number | null; readonly latency_ms: Percentiles; readonly ttft_ms: Percentiles; readonly tool_calls: number };
  readonly models: readonly { model: string; requests: number; input_tokens: number; output_tokens: number; total_tokens: number; cost_usd: number | null }[];
}

export interface Report {
  readonly groups: readonly ReportGroup[];
}

export interface SeriesAnswer {
  readonly step_ms: number;
  readonly series: readonly { key: string; points: readonly [number, number | null][] }[];
}

export interface MetricsUpdate {
  readonly type: 'metrics.update';
  readonly timestamp: string;
  readonly application_id: string | null;
  readonly metrics: {
    readonly requests_per_second: number;
    readonly error_rate: number | null;
    readonly p99_latency_ms: number | null;
    readonly p95_latency_ms: number | null;
    readonly active_sessions: number;
    readonly active_runs: number;
    readonly tokens_per_second: number;
    readonly cost_per_minute_usd: number;
  };
}

export interface AlertsAnswer {
  readonly rules: readonly string[];
  readonly firing: readonly { alert: string; group: string; measured: number | null; threshold: number; since: string }[];
  readonly recent: readonly { status: string; text: string; started_at: string; resolved_at: string | null }[];
}
