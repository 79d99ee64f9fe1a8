import { formatSummary } from '../sinks/index.js';
import { RunStats, formatSnapshotTable } from '../stats/index.js';
import { buildReport } from '../store/report.js';
import { buildTreeReport } from '../store/trees.js';
import type { StoreSetting } from '../store/open.js';
import type { GroupBy } from '../store/window.js';
import { chooseDb, openForCli, storeExists, windowOf } from './db.js';
import type { CliIo } from './io.js';
import { UserError } from './io.js';
import { formatReport, formatTreeReport } from './report-format.js';
import { readRunFiles } from './run-files.js';

export interface ReportOptions {
  /** A runs folder to read instead of the store (today's behaviour without a store). */
  readonly runsDir?: string;
  /** The runs folder read when there is no store. */
  readonly runsDirDefault: string;
  readonly db?: StoreSetting;
  readonly json: boolean;
  /** Only runs of this flow. */
  readonly flow?: string;
  /** Milliseconds back from now. */
  readonly since?: number;
  readonly from?: number;
  readonly to?: number;
  /** A rollup dimension, or `root`: whole run trees by their root's flow. */
  readonly by?: GroupBy | 'root';
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/**
 * `flowmeter report`: over the store when there is one (any window, grouped, from rollups),
 * else the snapshot of every finished run in a runs folder, rebuilt from their run.json.
 */
export async function report(options: ReportOptions, io: CliIo): Promise<number> {
  if (options.runsDir === undefined) {
    const choice = chooseDb(options.db, options.env);
    if (choice.setting !== false && (choice.explicit || storeExists(choice.setting))) {
      return storeReport(options, choice.setting, choice.explicit, io);
    }
  }
  if (options.by !== undefined || options.since !== undefined || options.from !== undefined || options.to !== undefined) {
    throw new UserError('--by, --since, --from and --to read the store; there is none here (run something, or `flowmeter import` a runs folder)');
  }
  return folderReport(options.runsDir ?? options.runsDirDefault, options, io);
}

async function storeReport(options: ReportOptions, setting: Exclude<StoreSetting, false>, explicit: boolean, io: CliIo): Promise<number> {
  const window = windowOf(options);
  const store = await openForCli(setting, { mustExist: explicit });
  try {
    if (options.by === 'root') {
      const trees = await buildTreeReport(store, { since: window.since, until: window.until, ...(options.flow === undefined ? {} : { flow: options.flow }) });
      io.out(options.json ? JSON.stringify(trees, null, 2) : formatTreeReport(trees));
      return 0;
    }
    const result = await buildReport(store, {
      since: window.since,
      until: window.until,
      ...(options.by === undefined ? {} : { by: options.by }),
      ...(options.flow === undefined ? {} : { filters: { flow: options.flow } }),
    });
    io.out(options.json ? JSON.stringify(result, null, 2) : formatReport(result));
    return 0;
  } finally {
    await store.close();
  }
}

function folderReport(runsDir: string, options: ReportOptions, io: CliIo): number {
  const { runs, skipped, corrupt } = readRunFiles(runsDir);
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
