import type { RunMetric, RunSnapshot } from './run-stats.js';
import { RUN_METRICS } from './run-stats.js';

/** Shown for a value nobody measured: unknown is not zero (DESIGN.md, "every number is true"). */
const UNKNOWN = '—';
const GAP = '  ';

export type Align = 'left' | 'right';

/**
 * A plain-text view of a snapshot for terminals and CI logs: no colours, no locale, keys
 * sorted, so the same snapshot always prints the same bytes (and diffs cleanly).
 * Lines are joined with "\n" and carry no trailing newline or trailing spaces.
 */
export function formatSnapshotTable(snapshot: RunSnapshot): string {
  const runs = snapshot.total_runs;
  const lines = renderTable(
    [
      ['runs', String(runs)],
      ['cost coverage', `${percent(snapshot.cost_coverage)} (${snapshot.cost_known_runs} of ${snapshot.cost_known_runs + snapshot.cost_unknown_runs} runs with a known cost)`],
      [
        'budget exceeded during retry',
        `${percent(snapshot.budget_exceeded_during_retry_rate)} (${snapshot.budget_exceeded_during_retry} of ${runs} runs)`,
      ],
    ],
    ['left', 'left'],
  );

  lines.push('');
  const percentileRows = RUN_METRICS.map((metric) => {
    const { p50, p95, p99 } = snapshot.percentiles[metric];
    const { count, sum } = snapshot.distributions[metric];
    const average = count === 0 ? null : sum / count;
    return [metric, cell(metric, p50), cell(metric, p95), cell(metric, p99), cell(metric, average, true)];
  });
  lines.push(...renderTable([['metric', 'p50', 'p95', 'p99', 'avg'], ...percentileRows], ['left', 'right', 'right', 'right', 'right']));

  lines.push('');
  const outcomes = sortedEntries(snapshot.outcome_distribution);
  if (outcomes.length === 0) {
    lines.push('outcome: none recorded');
  } else {
    const rows = outcomes.map(([key, count]) => [key, String(count), percent(count / Math.max(1, runs))]);
    lines.push(...renderTable([['outcome', 'runs', 'share'], ...rows], ['left', 'right', 'right']));
  }

  lines.push('');
  const reasons = sortedEntries(snapshot.retry_reason_distribution);
  if (reasons.length === 0) {
    lines.push('retry reason: none recorded');
  } else {
    const rows = reasons.map(([reason, count]) => [reason, String(count)]);
    lines.push(...renderTable([['retry reason', 'retries'], ...rows], ['left', 'right']));
  }
  return lines.join('\n');
}

/** Formats one value in its metric's unit; `average` keeps fractions that counts drop. */
function cell(metric: RunMetric, value: number | null, average = false): string {
  if (value === null) return UNKNOWN;
  switch (metric) {
    case 'elapsed_seconds':
      return formatSeconds(value);
    case 'cost_usd':
      return formatUsd(value);
    case 'total_tokens':
    case 'input_tokens':
    case 'output_tokens':
      return groupThousands(Math.round(value));
    case 'retries':
      // A sketch percentile of a count is within 1% of an integer; rounding recovers it.
      // The mean of retries is fractional and meaningful ("0.35 retries per run").
      return average ? trimZeros(value.toFixed(2)) : groupThousands(Math.round(value));
    default: {
      const unhandled: never = metric;
      return String(unhandled);
    }
  }
}

/** 3 significant digits; below one second in milliseconds ("231 ms", "1.23 s", "612 s"). */
export function formatSeconds(seconds: number): string {
  if (seconds === 0) return '0 s';
  if (seconds < 1) {
    const ms = significant(seconds * 1000, 3);
    // 0.9996 s rounds to "1000 ms"; say "1.00 s" instead.
    if (Number(ms) < 1000) return `${ms} ms`;
  }
  return `${significant(seconds, 3)} s`;
}

/** Cents above a dollar, 3 significant digits below, never exponent notation ("$0.00231"). */
export function formatUsd(usd: number): string {
  if (usd === 0) return '$0';
  return usd >= 1 ? `$${usd.toFixed(2)}` : `$${significant(usd, 3)}`;
}

/** `toPrecision` switches to exponent notation for large and tiny values; this never does. */
function significant(value: number, digits: number): string {
  if (value === 0) return '0';
  let magnitude = Math.floor(Math.log10(Math.abs(value)));
  // 0.9996 rounds up to 1.000, a digit too many: round again at the next magnitude.
  if (Math.abs(Number(value.toFixed(Math.max(0, digits - 1 - magnitude)))) >= 10 ** (magnitude + 1)) magnitude += 1;
  return value.toFixed(Math.max(0, digits - 1 - magnitude));
}

/** "12,345" without `toLocaleString`, whose output depends on the machine's locale. */
export function groupThousands(integer: number): string {
  return String(integer).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

function trimZeros(fixed: string): string {
  return fixed.includes('.') ? fixed.replace(/\.?0+$/, '') : fixed;
}

function percent(ratio: number): string {
  return `${(ratio * 100).toFixed(1)}%`;
}

function sortedEntries(record: Readonly<Record<string, number | undefined>>): [string, number][] {
  return Object.entries(record)
    .filter((entry): entry is [string, number] => entry[1] !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Pads every column to its widest cell; the header is the first row. */
export function renderTable(rows: readonly (readonly string[])[], align: readonly Align[]): string[] {
  const widths = align.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  return rows.map((row) =>
    align
      .map((side, column) => {
        const text = row[column] ?? '';
        const width = widths[column] ?? 0;
        return side === 'left' ? text.padEnd(width) : text.padStart(width);
      })
      .join(GAP)
      .trimEnd(),
  );
}
