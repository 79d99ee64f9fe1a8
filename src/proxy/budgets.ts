import { ProxyConfigError } from './upstreams.js';

/** Who a budget is kept for: one app (API key fingerprint or `x-flowmeter-app-id`), user, session or run. */
export type BudgetScope = 'app' | 'user' | 'session' | 'run';
export type BudgetMetric = 'cost_usd' | 'tokens';

export interface BudgetRule {
  /** The text it was parsed from, for messages. */
  readonly spec: string;
  readonly scope: BudgetScope;
  /** `*`: every value of the scope has its own budget; otherwise only this one. */
  readonly match: string;
  readonly metric: BudgetMetric;
  /** Rolling window in ms; null for no window (a run's whole life). */
  readonly windowMs: number | null;
  readonly limit: number;
}

const SCOPES = new Set<string>(['app', 'user', 'session', 'run']);
const UNITS: Readonly<Record<string, number>> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const NAMED: Readonly<Record<string, number>> = { second: 1_000, minute: 60_000, hour: 3_600_000, day: 86_400_000, week: 604_800_000 };

/**
 * `app=* cost_usd_per_day<=5`, `user=alice tokens_per_hour<=200000`, `run=* cost_usd<=1`.
 * Windows: `per_minute|hour|day|week` or `per_<n><s|m|h|d>` (`per_15m`). Without a window
 * the limit holds for a run's whole life, so only the run scope may leave it out.
 */
export function parseBudget(spec: string): BudgetRule {
  const m = /^\s*(\w+)\s*=\s*(\S+)\s+(cost_usd|tokens)(?:_per_(\w+))?\s*<=\s*([0-9]*\.?[0-9]+(?:e[+-]?\d+)?)\s*$/i.exec(spec);
  if (m === null) throw new ProxyConfigError(`budget "${spec}" is not understood; write e.g. 'app=* cost_usd_per_day<=5' or 'user=alice tokens_per_hour<=100000'`);
  const [, scope = '', match = '', metric = '', window, limit = ''] = m;
  if (!SCOPES.has(scope)) throw new ProxyConfigError(`budget "${spec}": scope "${scope}" is not one of app, user, session, run`);
  let windowMs: number | null = null;
  if (window !== undefined) {
    const named = NAMED[window.toLowerCase()];
    const n = /^(\d+)([smhd])$/.exec(window);
    if (named !== undefined) windowMs = named;
    else if (n !== null && Number(n[1]) > 0) windowMs = Number(n[1]) * (UNITS[n[2] ?? 's'] ?? 1_000);
    else throw new ProxyConfigError(`budget "${spec}": window "per_${window}" is not per_minute, per_hour, per_day, per_week or per_<n><s|m|h|d>`);
  } else if (scope !== 'run') {
    throw new ProxyConfigError(`budget "${spec}": an ${scope} budget needs a window, e.g. ${metric}_per_day`);
  }
  return { spec: spec.trim(), scope: scope as BudgetScope, match, metric: metric.toLowerCase() as BudgetMetric, windowMs, limit: Number(limit) };
}

/** Buckets per window: spend leaves the window in steps of window/60 (a day in 24-minute steps). */
const SLOTS = 60;

/** Spend of one key under one rule: a ring of time slots (a rolling window), or one total. */
class Tally {
  private readonly sums: Float64Array;
  private readonly stamps: Float64Array;
  constructor(private readonly slotMs: number | null) {
    this.sums = new Float64Array(slotMs === null ? 1 : SLOTS);
    this.stamps = new Float64Array(slotMs === null ? 1 : SLOTS).fill(-1);
  }

  add(now: number, amount: number): void {
    if (this.slotMs === null) {
      this.sums[0] = (this.sums[0] ?? 0) + amount;
      return;
    }
    const slot = Math.floor(now / this.slotMs);
    const i = slot % SLOTS;
    if (this.stamps[i] !== slot) {
      this.stamps[i] = slot;
      this.sums[i] = 0;
    }
    this.sums[i] = (this.sums[i] ?? 0) + amount;
  }

  /** Spend inside the window ending now. */
  total(now: number): number {
    if (this.slotMs === null) return this.sums[0] ?? 0;
    const current = Math.floor(now / this.slotMs);
    let sum = 0;
    for (let i = 0; i < SLOTS; i++) {
      const stamp = this.stamps[i] ?? -1;
      if (stamp > current - SLOTS) sum += this.sums[i] ?? 0;
    }
    return sum;
  }

  /** Seconds until enough spend leaves the window to be under `limit` again; null when it never does. */
  retryAfter(now: number, limit: number): number | null {
    if (this.slotMs === null) return null;
    const current = Math.floor(now / this.slotMs);
    let sum = this.total(now);
    for (let slot = current - SLOTS + 1; slot <= current; slot++) {
      const i = ((slot % SLOTS) + SLOTS) % SLOTS;
      if (this.stamps[i] === slot) sum -= this.sums[i] ?? 0;
      if (sum < limit) return Math.max(1, Math.ceil(((slot + SLOTS) * this.slotMs - now) / 1000));
    }
    return Math.ceil((SLOTS * this.slotMs) / 1000);
  }
}

export interface BudgetKeys {
  readonly app: string;
  readonly user: string | undefined;
  readonly session: string | undefined;
  readonly run: string | undefined;
}

export interface BudgetVerdict {
  readonly rule: BudgetRule;
  readonly used: number;
  /** Seconds; null when waiting does not help (a run's lifetime budget). */
  readonly retryAfter: number | null;
}

/** Bound on tracked keys per rule, so a flood of distinct user ids cannot grow memory without end. */
const MAX_KEYS = 100_000;

/**
 * Rolling-window budgets across every metered endpoint. A call is let through while its
 * keys are under every matching limit; what it spent counts once it ends. Calls already in
 * flight when a limit is reached still finish, so spend can pass a limit by what those
 * calls cost.
 */
export class Budgets {
  private readonly tallies: Map<string, Tally>[];

  constructor(readonly rules: readonly BudgetRule[]) {
    this.tallies = rules.map(() => new Map<string, Tally>());
  }

  /** The first rule the call's keys are over, or null to let it through. */
  check(keys: BudgetKeys, now: number): BudgetVerdict | null {
    for (let r = 0; r < this.rules.length; r++) {
      const rule = this.rules[r]!;
      const key = keyOf(rule, keys);
      if (key === undefined) continue;
      const tally = this.tallies[r]!.get(key);
      if (tally === undefined) continue;
      const used = tally.total(now);
      if (used >= rule.limit) return { rule, used, retryAfter: tally.retryAfter(now, rule.limit) };
    }
    return null;
  }

  /** Adds a finished call's spend; unknown figures add nothing (they are not zero, they are unknown). */
  add(keys: BudgetKeys, now: number, costUsd: number | null, tokens: number | null): void {
    for (let r = 0; r < this.rules.length; r++) {
      const rule = this.rules[r]!;
      const amount = rule.metric === 'cost_usd' ? costUsd : tokens;
      if (amount === null || amount <= 0) continue;
      const key = keyOf(rule, keys);
      if (key === undefined) continue;
      const map = this.tallies[r]!;
      let tally = map.get(key);
      if (tally === undefined) {
        if (map.size >= MAX_KEYS) map.delete(map.keys().next().value as string);
        tally = new Tally(rule.windowMs === null ? null : rule.windowMs / SLOTS);
        map.set(key, tally);
      }
      tally.add(now, amount);
    }
  }

  /** Forgets a run's lifetime tallies when it ends. */
  endRun(runId: string): void {
    for (let r = 0; r < this.rules.length; r++) if (this.rules[r]!.scope === 'run') this.tallies[r]!.delete(runId);
  }
}

function keyOf(rule: BudgetRule, keys: BudgetKeys): string | undefined {
  const value = keys[rule.scope];
  if (value === undefined) return undefined;
  return rule.match === '*' || rule.match === value ? value : undefined;
}
