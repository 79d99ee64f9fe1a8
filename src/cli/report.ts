import { formatSummary } from '../sinks/index.js';
import { RunStats, formatSnapshotTable } from '../stats/index.js';
import type { CliIo } from './io.js';
import { readRunFiles } from './run-files.js';

export interface ReportOptions {
  readonly runsDir: string;
  readonly json: boolean;
  /** Only runs of this flow. */
  readonly flow?: string;
}

/**
 * `flowmeter report`: the snapshot (p50/p95/p99, outcomes, cost coverage) of every
 * finished run in a runs folder, rebuilt from the run.json files the runs left.
 */
export function report(options: ReportOptions, io: CliIo): number {
  const { runs, skipped, corrupt } = readRunFiles(options.runsDir);
  const stats = new RunStats();
  for (const run of runs) if (options.flow === undefined || run.event.flow_id === options.flow) stats.observe(run.event);
  const snapshot = stats.snapshot();
  if (options.json) {
    io.out(JSON.stringify(snapshot, null, 2));
  } else {
    io.out(formatSnapshotTable(snapshot));
    if (skipped.length > 0) io.out(`\n${skipped.length} folder(s) without a finished run were skipped`);
  }
  // Corrupt files are not runs in progress: said on stderr, each with its cause, in both formats.
  for (const { dir, why } of corrupt) io.err(`flowmeter: warning: ${dir}: ${why}; skipped`);
  return 0;
}

export interface SummaryOptions {
  readonly runsDir: string;
  /** Only the last N runs. */
  readonly last?: number;
}

/** `flowmeter summary`: the tier-1 line of each finished run, oldest first. */
export function summary(options: SummaryOptions, io: CliIo): number {
  const { runs } = readRunFiles(options.runsDir);
  const shown = options.last === undefined ? runs : runs.slice(-options.last);
  for (const { event } of shown) io.out(`${event.run_id}  ${event.summary ?? formatSummary(event)}`);
  return 0;
}
