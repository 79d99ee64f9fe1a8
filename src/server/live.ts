import type { FlowEvent, RunEvent } from '../model/index.js';
import { QuantileSketch } from '../stats/index.js';

/** Seconds of history the live figures are computed over. */
export const LIVE_WINDOW_SECONDS = 60;
/** How long a session counts as active after its last run ended. */
const SESSION_IDLE_MS = 5 * 60_000;

/**
 * Union Square's `metrics.update` figures, with flowmeter's additions. Every figure is over the
 * last 60 seconds of LLM calls (`requests_per_second`, `error_rate`, latency percentiles,
 * `tokens_per_second`, `cost_per_minute_usd`), or about now (`active_runs`, `active_sessions`).
 * A percentile over no calls, or an error rate with no calls, is null.
 */
export interface LiveFigures {
  readonly requests_per_second: number;
  readonly error_rate: number | null;
  readonly p99_latency_ms: number | null;
  readonly p95_latency_ms: number | null;
  readonly active_sessions: number;
  readonly active_runs: number;
  readonly tokens_per_second: number;
  readonly cost_per_minute_usd: number;
}

export interface MetricsUpdate {
  readonly type: 'metrics.update';
  readonly timestamp: string;
  /** `null` for the figures over every application. */
  readonly application_id: string | null;
  readonly metrics: LiveFigures;
}

interface Second {
  at: number;
  requests: number;
  errors: number;
  tokens: number;
  cost: number;
  latency: QuantileSketch;
}

/** The last 60 one-second buckets of one application's calls. */
class Ring {
  readonly #seconds: Second[] = [];

  add(nowSec: number, latencyMs: number, failed: boolean, tokens: number, cost: number): void {
    let last = this.#seconds.at(-1);
    if (last === undefined || last.at !== nowSec) {
      last = { at: nowSec, requests: 0, errors: 0, tokens: 0, cost: 0, latency: new QuantileSketch() };
      this.#seconds.push(last);
      this.prune(nowSec);
    }
    last.requests++;
    if (failed) last.errors++;
    last.tokens += tokens;
    last.cost += cost;
    last.latency.add(latencyMs);
  }

  prune(nowSec: number): void {
    while (this.#seconds.length > 0 && this.#seconds[0]!.at <= nowSec - LIVE_WINDOW_SECONDS) this.#seconds.shift();
  }

  get empty(): boolean {
    return this.#seconds.length === 0;
  }

  figures(nowSec: number): Omit<LiveFigures, 'active_sessions' | 'active_runs'> {
    this.prune(nowSec);
    let requests = 0;
    let errors = 0;
    let tokens = 0;
    let cost = 0;
    const latency = new QuantileSketch();
    for (const s of this.#seconds) {
      requests += s.requests;
      errors += s.errors;
      tokens += s.tokens;
      cost += s.cost;
      latency.merge(s.latency);
    }
    return {
      requests_per_second: requests / LIVE_WINDOW_SECONDS,
      error_rate: requests === 0 ? null : errors / requests,
      p99_latency_ms: latency.quantile(0.99),
      p95_latency_ms: latency.quantile(0.95),
      tokens_per_second: tokens / LIVE_WINDOW_SECONDS,
      cost_per_minute_usd: (cost * 60) / LIVE_WINDOW_SECONDS,
    };
  }
}

/**
 * What is happening now, per application and overall, from the events as they arrive:
 * the source of the WebSocket's `metrics.update` messages. Runs without an app id count
 * under the overall figures only.
 */
export class LiveMetrics {
  readonly #all = new Ring();
  readonly #byApp = new Map<string, Ring>();
  /** Open runs: run id → app id and session id. */
  readonly #open = new Map<string, { app: string | null; session: string | null }>();
  /** Sessions and when their last run ended (null while one is open). */
  readonly #sessions = new Map<string, { app: string | null; endedAt: number | null; open: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  record(event: FlowEvent): void {
    const nowSec = Math.floor(this.now() / 1000);
    switch (event.kind) {
      case 'run_started': {
        const app = event.run.app_id ?? null;
        const session = event.run.session_id ?? null;
        this.#open.set(event.run.run_id, { app, session });
        if (session !== null) {
          const s = this.#sessions.get(session) ?? { app, endedAt: null, open: 0 };
          s.open++;
          s.endedAt = null;
          this.#sessions.set(session, s);
        }
        break;
      }
      case 'run_finished': {
        const open = this.#open.get(event.run.run_id);
        this.#open.delete(event.run.run_id);
        const session = open?.session ?? event.run.session_id ?? null;
        if (session !== null) {
          const s = this.#sessions.get(session);
          if (s !== undefined) {
            s.open = Math.max(0, s.open - 1);
            if (s.open === 0) s.endedAt = this.now();
          }
        }
        break;
      }
      case 'llm_call': {
        const app = this.#open.get(event.run_id)?.app ?? null;
        const tokens = event.total_tokens ?? (event.input_tokens ?? 0) + (event.output_tokens ?? 0);
        const cost = event.cost_usd ?? 0;
        const failed = event.error_type !== null;
        this.#all.add(nowSec, event.duration_ms, failed, tokens, cost);
        if (app !== null) {
          let ring = this.#byApp.get(app);
          if (ring === undefined) this.#byApp.set(app, (ring = new Ring()));
          ring.add(nowSec, event.duration_ms, failed, tokens, cost);
        }
        break;
      }
      case 'step_started':
      case 'step_finished':
      case 'tool_call':
      case 'tokens':
      case 'retry':
        break;
      default: {
        const unreachable: never = event;
        return unreachable;
      }
    }
  }

  /** One `metrics.update` for every application seen in the last minute, then the overall one. */
  updates(): MetricsUpdate[] {
    const nowMs = this.now();
    const nowSec = Math.floor(nowMs / 1000);
    const timestamp = new Date(nowMs).toISOString();
    for (const [session, s] of this.#sessions) if (s.open === 0 && s.endedAt !== null && nowMs - s.endedAt > SESSION_IDLE_MS) this.#sessions.delete(session);
    const runsOf = (app: string | null): number => {
      let n = 0;
      for (const r of this.#open.values()) if (app === null || r.app === app) n++;
      return n;
    };
    const sessionsOf = (app: string | null): number => {
      let n = 0;
      for (const s of this.#sessions.values()) if (app === null || s.app === app) n++;
      return n;
    };
    const out: MetricsUpdate[] = [];
    const apps = new Set<string>([...this.#byApp.keys()]);
    for (const r of this.#open.values()) if (r.app !== null) apps.add(r.app);
    for (const app of [...apps].sort()) {
      const ring = this.#byApp.get(app);
      ring?.prune(nowSec);
      const figures = ring?.figures(nowSec) ?? new Ring().figures(nowSec);
      const runs = runsOf(app);
      if (ring?.empty !== false && runs === 0) {
        this.#byApp.delete(app);
        continue;
      }
      out.push({ type: 'metrics.update', timestamp, application_id: app, metrics: { ...figures, active_sessions: sessionsOf(app), active_runs: runs } });
    }
    out.push({ type: 'metrics.update', timestamp, application_id: null, metrics: { ...this.#all.figures(nowSec), active_sessions: sessionsOf(null), active_runs: runsOf(null) } });
    return out;
  }
}

/** The message a page gets as each run ends. */
export interface RunFinishedMessage {
  readonly type: 'run.finished';
  readonly run: RunEvent & { readonly summary: string };
}
