import { holds, measure, parseRule, RuleError } from '../stats/index.js';
import type { Rule } from '../stats/index.js';
import type { GaugeFamily, Registry } from '../recorder/index.js';
import { durationMs } from '../model/duration.js';
import type { Store } from '../store/store.js';
import { GROUP_BY, isGroupBy, windowGroups } from '../store/window.js';
import type { GroupBy } from '../store/window.js';

/**
 * An alert: a rule of `flowmeter check`'s threshold language, the window it is measured
 * over, and optionally one evaluation per group:
 *
 *   p95(cost_usd) > 0.05 for 5m by flow       error_rate > 10% for 15m       p99(call_latency_ms) > 8000
 */
export interface AlertRule {
  /** As written, normalized: `p95(cost_usd) > 0.05 for 5m by flow`. */
  readonly text: string;
  readonly rule: Rule;
  readonly windowMs: number;
  readonly by: GroupBy | null;
}

const DEFAULT_WINDOW = '5m';

/** Parses an alert; a RuleError says what is wrong. */
export function parseAlert(text: string): AlertRule {
  const m = /^(.*?)(?:\s+for\s+(\d+(?:\.\d+)?)([smhd]))?(?:\s+by\s+([a-z_]+))?\s*$/i.exec(text.trim());
  if (m === null) throw new RuleError(`"${text}" is not an alert; write e.g. "p95(cost_usd) > 0.05 for 5m by flow"`);
  const rule = parseRule(m[1] ?? '');
  const windowText = m[2] === undefined ? DEFAULT_WINDOW : `${m[2]}${(m[3] ?? 'm').toLowerCase()}`;
  const windowMs = durationMs(windowText) ?? NaN;
  if (!(windowMs >= 60_000)) throw new RuleError(`"${text}": the window must be at least 1m (rollups are per minute)`);
  const by = m[4]?.toLowerCase() ?? null;
  if (by !== null && !isGroupBy(by)) throw new RuleError(`"${text}": cannot group by ${by}; use one of ${GROUP_BY.join(', ')}`);
  return { text: `${rule.text} for ${windowText}${by === null ? '' : ` by ${by}`}`, rule, windowMs, by };
}

export type AlertStatus = 'firing' | 'resolved';

export interface AlertState {
  readonly alert: string;
  /** The group's value (`all` when the alert has no `by`). */
  readonly group: string;
  readonly measured: number | null;
  readonly threshold: number;
  readonly since: string;
}

/** What the webhook receives, and `/api/alerts` lists. */
export interface AlertNotification {
  readonly status: AlertStatus;
  readonly alert: string;
  readonly group: string;
  readonly by: GroupBy | null;
  readonly measured: number | null;
  readonly threshold: number;
  readonly started_at: string;
  readonly resolved_at: string | null;
  /** One line for chat (Slack's incoming webhooks read `text`). */
  readonly text: string;
}

export interface AlertEngineOptions {
  readonly store: Store;
  readonly alerts: readonly AlertRule[];
  /** Where notifications are POSTed (JSON); none: only `/api/alerts`, `/metrics` and the dashboard show them. */
  readonly webhook?: string;
  readonly onError?: (err: unknown) => void;
  readonly now?: () => number;
  /** Where `flowmeter_alerts_firing{alert,group}` (1 firing, 0 resolved) is kept up to date. */
  readonly registry?: Registry;
}

function fmt(value: number | null): string {
  if (value === null) return 'no data';
  return Math.abs(value) >= 1000 ? value.toFixed(0) : String(Number(value.toPrecision(4)));
}

/**
 * Evaluates alert rules over the store's rollups and notifies on each change: a rule that
 * starts to hold for a group fires, one that stops holding (or whose group has no data any
 * more) resolves. Notifications go to the webhook in order, retried a few times.
 */
export class AlertEngine {
  readonly #firing = new Map<string, AlertState & { readonly rule: AlertRule }>();
  readonly #recent: AlertNotification[] = [];
  readonly #options: AlertEngineOptions;
  #delivery: Promise<void> = Promise.resolve();
  readonly #gauge: GaugeFamily | undefined;
  delivered = 0;
  failedDeliveries = 0;

  constructor(options: AlertEngineOptions) {
    this.#options = options;
    this.#gauge = options.registry?.gauge({ name: 'flowmeter_alerts_firing', help: 'Alert rules firing now, by rule and group (1 firing, 0 resolved).', labelNames: ['alert', 'group'] });
  }

  get rules(): readonly AlertRule[] {
    return this.#options.alerts;
  }

  firing(): AlertState[] {
    return [...this.#firing.values()].map(({ rule: _rule, ...state }) => state);
  }

  /** The last 100 notifications, newest first. */
  recent(): AlertNotification[] {
    return [...this.#recent].reverse();
  }

  /** One evaluation of every rule; resolves with the notifications it made. */
  async evaluate(): Promise<AlertNotification[]> {
    const now = (this.#options.now ?? Date.now)();
    const out: AlertNotification[] = [];
    for (const alert of this.#options.alerts) {
      const groups = await windowGroups(this.#options.store, { since: now - alert.windowMs, until: now + 1, ...(alert.by === null ? {} : { by: alert.by }) });
      const seen = new Set<string>();
      for (const g of groups) {
        const key = `${alert.text}\u0000${g.key}`;
        seen.add(key);
        const measured = measure(alert.rule, g);
        const bad = measured !== null && holds(alert.rule, measured);
        const was = this.#firing.get(key);
        if (bad && was === undefined) {
          const state = { alert: alert.text, group: g.key, measured, threshold: alert.rule.value, since: new Date(now).toISOString(), rule: alert };
          this.#firing.set(key, state);
          out.push(this.#notification('firing', state, null));
        } else if (bad && was !== undefined) {
          this.#firing.set(key, { ...was, measured });
        } else if (!bad && was !== undefined) {
          this.#firing.delete(key);
          out.push(this.#notification('resolved', { ...was, measured }, now));
        }
      }
      // A group with no data in the window any more has nothing left to alert on.
      for (const [key, was] of [...this.#firing]) {
        if (was.rule === alert && !seen.has(key)) {
          this.#firing.delete(key);
          out.push(this.#notification('resolved', { ...was, measured: null }, now));
        }
      }
    }
    for (const n of out) {
      this.#recent.push(n);
      if (this.#recent.length > 100) this.#recent.shift();
      this.#gauge?.labels(n.alert, n.group).set(n.status === 'firing' ? 1 : 0);
      this.#deliver(n);
    }
    return out;
  }

  /** Waits for notifications on their way to the webhook. */
  async settled(): Promise<void> {
    await this.#delivery;
  }

  #notification(status: AlertStatus, s: AlertState & { readonly rule: AlertRule }, resolvedAt: number | null): AlertNotification {
    const where = s.rule.by === null ? '' : ` ${s.rule.by}=${s.group}`;
    const text =
      status === 'firing'
        ? `[FIRING] ${s.alert}${where}: measured ${fmt(s.measured)}, threshold ${fmt(s.threshold)}`
        : `[RESOLVED] ${s.alert}${where}: now ${fmt(s.measured)}, threshold ${fmt(s.threshold)}`;
    return { status, alert: s.alert, group: s.group, by: s.rule.by, measured: s.measured, threshold: s.threshold, started_at: s.since, resolved_at: resolvedAt === null ? null : new Date(resolvedAt).toISOString(), text };
  }

  #deliver(n: AlertNotification): void {
    const url = this.#options.webhook;
    if (url === undefined) return;
    this.#delivery = this.#delivery.then(async () => {
      for (let attempt = 0; attempt < 3; attempt++) {
        try {
          const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(n), signal: AbortSignal.timeout(10_000) });
          await res.arrayBuffer();
          if (res.ok) {
            this.delivered++;
            return;
          }
          if (res.status < 500) break;
        } catch (err) {
          if (attempt === 2) this.#options.onError?.(err);
        }
        await new Promise((r) => setTimeout(r, 200 * 2 ** attempt));
      }
      this.failedDeliveries++;
      this.#options.onError?.(new Error(`alert webhook ${url} did not take "${n.text}"`));
    });
  }
}
