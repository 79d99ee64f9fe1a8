import { readFileSync } from 'node:fs';
import { holds, measure, parseRule, RuleError } from '../stats/index.js';
import type { Rule } from '../stats/index.js';
import { REPORT_FORMAT, buildReport } from '../store/report.js';
import type { Report, ReportGroup } from '../store/report.js';
import type { StoreSetting } from '../store/open.js';
import { windowGroups } from '../store/window.js';
import type { GroupBy } from '../store/window.js';
import { chooseDb, openForCli, windowOf } from './db.js';
import type { CliIo } from './io.js';
import { UserError } from './io.js';

export interface CheckOptions {
  readonly db?: StoreSetting;
  readonly since?: number;
  readonly from?: number;
  readonly to?: number;
  readonly by?: GroupBy;
  readonly flow?: string;
  /** Rules in the threshold language, from --rule and the shorthand flags. */
  readonly rules: readonly string[];
  readonly baseline?: string;
  /** 0.1 for 10%. */
  readonly maxRegression?: number;
  readonly allowEmpty: boolean;
  readonly json: boolean;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** The shorthand flags as rules ("bad when true"). */
export const SHORTHAND: Readonly<Record<string, (value: string) => string>> = {
  p95LatencyMs: (v) => `p95(latency_ms) > ${v}`,
  p99LatencyMs: (v) => `p99(latency_ms) > ${v}`,
  p95CostUsd: (v) => `p95(cost_usd) > ${v}`,
  maxErrorRate: (v) => `error_rate > ${v}`,
  minSuccessRate: (v) => `success_rate < ${v}`,
  maxCostUsd: (v) => `sum(cost_usd) > ${v}`,
};

interface RuleResult {
  readonly group: string;
  readonly rule: string;
  readonly measured: number | null;
  readonly threshold: number;
  readonly broken: boolean;
}

interface Regression {
  readonly group: string;
  readonly metric: string;
  readonly baseline: number;
  readonly measured: number;
  readonly growth: number;
  readonly broken: boolean;
}

/** What a regression compares: the p95 of each, per group, against the saved report. */
const REGRESSION_METRICS: readonly [string, (g: ReportGroup) => number | null][] = [
  ['p95 cost per run (USD)', (g) => g.cost_per_run_usd.p95],
  ['p95 time per run (s)', (g) => g.time_per_run_seconds.p95],
  ['p95 tokens per run', (g) => g.tokens_per_run.p95],
  ['p95 LLM call latency (ms)', (g) => g.calls.latency_ms.p95],
];

function fmt(value: number | null): string {
  if (value === null) return 'no data';
  if (value === 0) return '0';
  const abs = Math.abs(value);
  return abs >= 1000 ? value.toFixed(0) : abs >= 1 ? String(Number(value.toFixed(3))) : String(Number(value.toPrecision(3)));
}

function readBaseline(path: string): Report {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new UserError(`--baseline ${path}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  }
  if (typeof value !== 'object' || value === null || (value as { format?: unknown }).format !== REPORT_FORMAT || !Array.isArray((value as { groups?: unknown }).groups)) {
    throw new UserError(`--baseline ${path}: not a saved \`flowmeter report --json\` (format ${REPORT_FORMAT})`);
  }
  return value as Report;
}

/**
 * `flowmeter check`: a CI gate. Exit 0 when every rule holds over the window, 1 when one is
 * broken (each broken rule printed with its group, threshold and measured value).
 */
export async function check(options: CheckOptions, io: CliIo): Promise<number> {
  let rules: Rule[];
  try {
    rules = options.rules.map(parseRule);
  } catch (err) {
    // A rule that does not parse is a usage error: the command line itself is wrong.
    if (err instanceof RuleError) {
      io.err(`flowmeter check: ${err.message}`);
      return 2;
    }
    throw err;
  }
  const baseline = options.baseline === undefined ? undefined : readBaseline(options.baseline);
  if (rules.length === 0 && baseline === undefined) throw new UserError('nothing to check: give a threshold (e.g. --p95-cost-usd 0.02, --rule "error_rate > 5%") or --baseline');
  const choice = chooseDb(options.db, options.env);
  if (choice.setting === false) throw new UserError('check reads the store, and the store is off (--db or FLOWMETER_DB)');
  const window = windowOf(options);
  const store = await openForCli(choice.setting, { mustExist: true });
  try {
    const query = {
      since: window.since,
      until: window.until,
      ...(options.by === undefined ? {} : { by: options.by }),
      ...(options.flow === undefined ? {} : { filters: { flow: options.flow } }),
    };
    const groups = await windowGroups(store, query);
    const totalRuns = groups.reduce((n, g) => n + g.runs.totalRuns, 0);
    const results: RuleResult[] = [];
    for (const g of groups) {
      for (const rule of rules) {
        const measured = measure(rule, g);
        results.push({ group: g.key, rule: rule.text, measured, threshold: rule.value, broken: measured !== null && holds(rule, measured) });
      }
    }
    const regressions: Regression[] = [];
    if (baseline !== undefined) {
      const current = await buildReport(store, query);
      const limit = options.maxRegression ?? 0.1;
      for (const g of current.groups) {
        const before = baseline.groups.find((b) => b.group === g.group);
        if (before === undefined) continue;
        for (const [metric, pick] of REGRESSION_METRICS) {
          const was = pick(before);
          const now = pick(g);
          if (was === null || now === null || was <= 0) continue;
          const growth = now / was - 1;
          regressions.push({ group: g.group, metric, baseline: was, measured: now, growth, broken: growth > limit });
        }
      }
    }
    const empty = totalRuns === 0 && !options.allowEmpty;
    const broken = results.filter((r) => r.broken).length + regressions.filter((r) => r.broken).length;
    const ok = broken === 0 && !empty;
    if (options.json) {
      io.out(JSON.stringify({ ok, since: new Date(window.since).toISOString(), until: new Date(window.until).toISOString(), by: options.by ?? null, runs: totalRuns, results, regressions }, null, 2));
    } else {
      const label = (group: string): string => (options.by === undefined ? 'all' : `${options.by}=${group === '' ? '(none)' : group}`);
      for (const r of results) {
        const over = r.broken && r.measured !== null && r.threshold !== 0 ? ` (${r.measured > r.threshold ? '+' : ''}${(((r.measured - r.threshold) / Math.abs(r.threshold)) * 100).toFixed(0)}% vs ${fmt(r.threshold)})` : '';
        io.out(`${r.broken ? 'FAIL' : r.measured === null ? 'n/a ' : 'ok  '}  ${label(r.group)}  ${r.rule}  measured ${fmt(r.measured)}${over}`);
      }
      for (const r of regressions) {
        io.out(`${r.broken ? 'FAIL' : 'ok  '}  ${label(r.group)}  ${r.metric}: ${fmt(r.baseline)} -> ${fmt(r.measured)} (${r.growth >= 0 ? '+' : ''}${(r.growth * 100).toFixed(1)}%, limit +${((options.maxRegression ?? 0.1) * 100).toFixed(0)}%)`);
      }
      if (empty) io.out('FAIL  no runs in the window (pass --allow-empty to accept that)');
      io.out(ok ? `check passed: ${results.length + regressions.length} checks over ${totalRuns} runs` : `check failed: ${broken} of ${results.length + regressions.length} checks broken over ${totalRuns} runs`);
    }
    return ok ? 0 : 1;
  } finally {
    await store.close();
  }
}
