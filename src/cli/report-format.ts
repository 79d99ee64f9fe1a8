import type { Percentiles } from '../stats/index.js';
import { formatSnapshotTable } from '../stats/index.js';
import { formatSeconds, formatUsd, groupThousands, renderTable } from '../stats/snapshot-table.js';
import type { Report, ReportGroup } from '../store/report.js';
import type { TreeReport } from '../store/trees.js';

const UNKNOWN = '—';

const ms = (v: number | null): string => (v === null ? UNKNOWN : formatSeconds(v / 1000));
const pct = (v: number | null): string => (v === null ? UNKNOWN : `${(v * 100).toFixed(1)}%`);

function row(name: string, p: Percentiles, format: (v: number | null) => string): string[] {
  return [name, format(p.p50), format(p.p95), format(p.p99)];
}

/** A store report for people: a header, then each group's snapshot table, calls, models, slowest calls and F-score. */
export function formatReport(report: Report): string {
  const lines: string[] = [`window ${report.since} … ${report.until}  store ${report.store}${report.by === null ? '' : `  by ${report.by}`}`];
  if (report.groups.length === 0) {
    lines.push('', 'no runs or calls in this window');
    return lines.join('\n');
  }
  for (const g of report.groups) {
    lines.push('', ...groupLines(report, g));
  }
  return lines.join('\n');
}

function groupLines(report: Report, g: ReportGroup): string[] {
  const title = report.by === null ? 'all runs' : `${report.by} = ${g.group === '' ? '(none)' : g.group}`;
  const lines = [`== ${title}: ${g.runs} runs, success ${pct(g.success_rate)}, ${groupThousands(g.calls.requests)} LLM calls (${pct(g.calls.error_rate)} failed), ${groupThousands(g.calls.tool_calls)} tool calls`];
  if (g.runs > 0) lines.push(formatSnapshotTable(g.snapshot));
  if (g.calls.requests > 0 || g.calls.tool_calls > 0) {
    lines.push('');
    lines.push(
      ...renderTable(
        [
          ['call', 'p50', 'p95', 'p99'],
          row('llm latency', g.calls.latency_ms, ms),
          row('time to first token', g.calls.ttft_ms, ms),
          row('tool latency', g.calls.tool_latency_ms, ms),
        ],
        ['left', 'right', 'right', 'right'],
      ),
    );
  }
  if (g.models.length > 0) {
    lines.push('');
    const rows = g.models.map((m) => [m.model === '' ? '(none)' : m.model, groupThousands(m.requests), groupThousands(m.input_tokens), groupThousands(m.output_tokens), m.cost_usd === null ? UNKNOWN : formatUsd(m.cost_usd)]);
    lines.push(...renderTable([['model', 'calls', 'input tokens', 'output tokens', 'cost'], ...rows], ['left', 'right', 'right', 'right', 'right']));
  }
  if (g.slowest_calls !== null && g.slowest_calls.length > 0) {
    lines.push('');
    const rows = g.slowest_calls.map((c) => [ms(c.duration_ms), c.kind, c.name, `${c.run_id}#${c.seq}`, c.ended_at, c.success ? 'ok' : 'failed']);
    lines.push(...renderTable([['slowest', 'kind', 'name', 'call', 'ended', ''], ...rows], ['right', 'left', 'left', 'left', 'left', 'left']));
  }
  if (g.fscore !== null) {
    const f = g.fscore;
    lines.push('', `F1 ${f.f1.toFixed(3)}  precision ${f.precision.toFixed(3)}  recall ${f.recall.toFixed(3)}  (${f.labelled_runs} labelled runs: ${f.true_positives} TP, ${f.false_positives} FP, ${f.false_negatives} FN, ${f.true_negatives} TN)`);
  }
  return lines;
}

/** `report --by root`: per root flow, whole run trees — cost, tokens and time per tree. */
export function formatTreeReport(report: TreeReport): string {
  const lines: string[] = [`window ${report.since} … ${report.until}  store ${report.store}  by root`];
  if (report.groups.length === 0) {
    lines.push('', 'no runs in this window');
    return lines.join('\n');
  }
  for (const g of report.groups) {
    lines.push('', `== root ${g.root_flow}: ${groupThousands(g.trees)} trees, ${groupThousands(g.runs)} runs, success ${pct(g.success_rate)}, cost known for ${pct(g.cost_coverage)}`);
    lines.push(
      ...renderTable(
        [
          ['per tree', 'p50', 'p95', 'p99'],
          row('cost', g.cost_per_tree_usd, (v) => (v === null ? UNKNOWN : formatUsd(v))),
          row('tokens', g.tokens_per_tree, (v) => (v === null ? UNKNOWN : groupThousands(Math.round(v)))),
          row('time', g.time_per_tree_seconds, (v) => (v === null ? UNKNOWN : formatSeconds(v))),
        ],
        ['left', 'right', 'right', 'right'],
      ),
    );
    lines.push('outcomes ' + Object.entries(g.outcomes).sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1)).map(([o, n]) => `${o} ${n}`).join(', '));
  }
  return lines.join('\n');
}
