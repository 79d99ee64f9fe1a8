import type { QuantileSketch } from './quantile-sketch.js';
import type { RunMetric, RunStats } from './run-stats.js';

/**
 * The threshold language of `flowmeter check` and of the server's alert rules: one
 * comparison per rule, read as "this is bad when true".
 *
 *   p95(cost_usd) > 0.02        p99(latency_ms) >= 8000      error_rate > 5%
 *   sum(cost_usd) > 10          success_rate < 0.9           p95(call_latency_ms) > 2000
 */
export const STATS = ['p50', 'p90', 'p95', 'p99', 'min', 'max', 'avg', 'sum'] as const;
export type Stat = (typeof STATS)[number];

/** Per-run fields (from the run sketches) and per-call fields (from the call sketches). */
export const RUN_FIELDS = ['cost_usd', 'latency_ms', 'elapsed_seconds', 'total_tokens', 'input_tokens', 'output_tokens', 'retries'] as const;
export const CALL_FIELDS = ['call_latency_ms', 'ttft_ms'] as const;
export type Field = (typeof RUN_FIELDS)[number] | (typeof CALL_FIELDS)[number];

/** Values that are already one number per window. */
export const MEASURES = ['error_rate', 'success_rate', 'cost_coverage', 'budget_exceeded_rate', 'call_error_rate', 'runs', 'calls', 'errors'] as const;
export type Measure = (typeof MEASURES)[number];

export const OPERATORS = ['>=', '<=', '==', '!=', '>', '<'] as const;
export type Operator = (typeof OPERATORS)[number];

export type RuleTarget = { readonly kind: 'stat'; readonly stat: Stat; readonly field: Field } | { readonly kind: 'measure'; readonly measure: Measure };

export interface Rule {
  /** The rule as written, normalized (`p95(cost_usd) > 0.02`). */
  readonly text: string;
  readonly target: RuleTarget;
  readonly op: Operator;
  readonly value: number;
}

/** What a rule is evaluated over: one group of a window. */
export interface RuleSubject {
  readonly runs: RunStats;
  readonly calls: { readonly requests: number; readonly errors: number; readonly latency: QuantileSketch; readonly ttft: QuantileSketch };
}

export class RuleError extends Error {
  override readonly name = 'RuleError';
}

const RULE = /^\s*(?:([a-z0-9]+)\s*\(\s*([a-z_]+)\s*\)|([a-z_]+))\s*(>=|<=|==|!=|>|<)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?)\s*(%?)\s*$/i;

const includes = <T extends string>(list: readonly T[], value: string): value is T => (list as readonly string[]).includes(value);

/** Parses one rule; a RuleError says what is wrong and what is allowed. */
export function parseRule(text: string): Rule {
  const m = RULE.exec(text);
  if (m === null) {
    throw new RuleError(`"${text}" is not a rule; write e.g. "p95(cost_usd) > 0.02" or "error_rate > 5%"`);
  }
  const [, stat, field, measure, op, number, percent] = m;
  let value = Number(number);
  if (percent === '%') value /= 100;
  const operator = op as Operator;
  if (measure !== undefined) {
    const name = measure.toLowerCase();
    if (!includes(MEASURES, name)) {
      if (includes(RUN_FIELDS, name) || includes(CALL_FIELDS, name)) throw new RuleError(`"${text}": ${name} needs a statistic, e.g. p95(${name})`);
      throw new RuleError(`"${text}": unknown measure ${name}; use one of ${MEASURES.join(', ')} or a statistic like p95(cost_usd)`);
    }
    return { text: `${name} ${operator} ${number ?? ''}${percent ?? ''}`, target: { kind: 'measure', measure: name }, op: operator, value };
  }
  const s = (stat ?? '').toLowerCase();
  const f = (field ?? '').toLowerCase();
  if (!includes(STATS, s)) throw new RuleError(`"${text}": unknown statistic ${s}; use one of ${STATS.join(', ')}`);
  if (!includes(RUN_FIELDS, f) && !includes(CALL_FIELDS, f)) throw new RuleError(`"${text}": unknown field ${f}; use one of ${[...RUN_FIELDS, ...CALL_FIELDS].join(', ')}`);
  if (s === 'sum' && includes(CALL_FIELDS, f)) throw new RuleError(`"${text}": sum is not kept for ${f}; use a percentile, min, max or avg`);
  return { text: `${s}(${f}) ${operator} ${number ?? ''}${percent ?? ''}`, target: { kind: 'stat', stat: s, field: f }, op: operator, value };
}

const QUANTILE: Readonly<Record<string, number>> = { p50: 0.5, p90: 0.9, p95: 0.95, p99: 0.99, min: 0, max: 1 };

function runStat(runs: RunStats, stat: Stat, field: (typeof RUN_FIELDS)[number]): number | null {
  const metric: RunMetric = field === 'latency_ms' ? 'elapsed_seconds' : field;
  const scale = field === 'latency_ms' ? 1000 : 1;
  const snapshot = stat === 'avg' || stat === 'sum' ? runs.snapshot().distributions[metric] : undefined;
  let value: number | null;
  if (snapshot !== undefined) value = snapshot.count === 0 ? null : stat === 'sum' ? snapshot.sum : snapshot.sum / snapshot.count;
  else value = runs.quantile(metric, QUANTILE[stat] ?? 0.5);
  return value === null ? null : value * scale;
}

function callStat(sketch: QuantileSketch, stat: Stat): number | null {
  if (stat === 'avg') return sketch.mean;
  return sketch.quantile(QUANTILE[stat] ?? 0.5);
}

/** The rule's measured value over a subject; null when nothing in the window measured it. */
export function measure(rule: Rule, subject: RuleSubject): number | null {
  const target = rule.target;
  if (target.kind === 'stat') {
    const { stat, field } = target;
    if (field === 'call_latency_ms') return callStat(subject.calls.latency, stat);
    if (field === 'ttft_ms') return callStat(subject.calls.ttft, stat);
    return runStat(subject.runs, stat, field);
  }
  const snap = subject.runs.snapshot();
  const total = snap.total_runs;
  const successes = Object.entries(snap.outcome_distribution)
    .filter(([key]) => key.startsWith('success|'))
    .reduce((n, [, count]) => n + (count ?? 0), 0);
  switch (target.measure) {
    case 'runs':
      return total;
    case 'calls':
      return subject.calls.requests;
    case 'errors':
      return total - successes;
    case 'error_rate':
      return total === 0 ? null : (total - successes) / total;
    case 'success_rate':
      return total === 0 ? null : successes / total;
    case 'cost_coverage':
      return total === 0 ? null : snap.cost_coverage;
    case 'budget_exceeded_rate': {
      const exceeded = Object.entries(snap.outcome_distribution)
        .filter(([key]) => key.startsWith('budget_exceeded|'))
        .reduce((n, [, count]) => n + (count ?? 0), 0);
      return total === 0 ? null : exceeded / total;
    }
    case 'call_error_rate':
      return subject.calls.requests === 0 ? null : subject.calls.errors / subject.calls.requests;
    default: {
      const unreachable: never = target.measure;
      return unreachable;
    }
  }
}

/** True when the measured value makes the rule hold ("is bad"). */
export function holds(rule: Rule, value: number): boolean {
  switch (rule.op) {
    case '>':
      return value > rule.value;
    case '>=':
      return value >= rule.value;
    case '<':
      return value < rule.value;
    case '<=':
      return value <= rule.value;
    case '==':
      return value === rule.value;
    case '!=':
      return value !== rule.value;
    default: {
      const unreachable: never = rule.op;
      return unreachable;
    }
  }
}
