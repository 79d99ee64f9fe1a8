import { createRequire } from 'node:module';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import type { CliIo } from './io.js';
import { UserError, processIo } from './io.js';
import { safeMessage } from '../runtime/ais/diagnostics.js';
import { normalizeOptArgs, registerCompile } from './compile.js';
import { registerPrices } from './prices.js';
import { registerProxy } from './proxy.js';
import { registerPush } from './push.js';
import { report, summary } from './report.js';
import type { ReportOptions } from './report.js';
import { SHORTHAND, check } from './check.js';
import type { CheckOptions } from './check.js';
import { importRuns } from './import.js';
import type { ImportOptions } from './import.js';
import { DB_HELP, RETAIN_RAW_HELP, RETAIN_ROLLUPS_HELP, dbOption, parseDuration, parseTime, retentionOption } from './db.js';
import { prune } from './prune.js';
import type { PruneOptions } from './prune.js';
import { GROUP_BY, isGroupBy } from '../store/window.js';
import type { GroupBy } from '../store/window.js';
import { registerRun } from './run-options.js';
import { registerServe } from './serve.js';
import { registerMcp } from './mcp.js';

const DEFAULT_RUNS_DIR = '.flowmeter/runs';

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

function number(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || value.trim() === '') throw new InvalidArgumentError('must be a number');
  return n;
}

/** 0.05 or 5%. */
function rate(value: string): number {
  const percent = value.trim().endsWith('%');
  const n = Number(percent ? value.trim().slice(0, -1) : value);
  if (!Number.isFinite(n) || n < 0 || value.trim() === '') throw new InvalidArgumentError('must be a share such as 0.05 or 5%');
  return percent ? n / 100 : n;
}

function groupBy(value: string): GroupBy {
  if (!isGroupBy(value)) throw new InvalidArgumentError(`must be one of ${GROUP_BY.join(', ')}`);
  return value;
}

/** `report --by`: a rollup dimension, or `root` for whole run trees. */
function reportBy(value: string): GroupBy | 'root' {
  if (value === 'root') return value;
  if (!isGroupBy(value)) throw new InvalidArgumentError(`must be one of ${GROUP_BY.join(', ')}, root`);
  return value;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function version(): string {
  const pkg = createRequire(import.meta.url)('../../package.json') as { version: string };
  return pkg.version;
}

function program(io: CliIo, setCode: (code: number) => void): Command {
  const runsDirDefault = process.env.FLOWMETER_RUNS_DIR ?? DEFAULT_RUNS_DIR;
  const cli = new Command('flowmeter')
    .description('Measure LLM agents and workflows: cost, latency, tokens, outcomes and p95/p99 per run.')
    .version(version())
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });

  cli
    .command('report')
    .description('p50/p95/p99 of cost, time and tokens per run, outcomes, retries, models and the slowest calls, over a window of the store (or a runs folder)')
    .option('--db <store>', DB_HELP, dbOption)
    .option('--since <duration>', 'the last 15m, 24h, 30d, … (default: everything)', parseDuration)
    .option('--from <time>', 'window start: an ISO time or a duration back from now', (v: string) => parseTime(v))
    .option('--to <time>', 'window end (default: now)', (v: string) => parseTime(v))
    .option('--by <dimension>', `one group per ${GROUP_BY.join('|')}, or per root flow of whole run trees (root)`, reportBy)
    .option('--flow <flow_id>', 'only runs of this flow (with --by root: trees whose root is of this flow)')
    .option('--runs-dir <dir>', `read this runs folder instead of the store (used anyway when there is no store: ${runsDirDefault})`)
    .option('--json', 'print the report as JSON (a runs folder: the enzu snapshot keys)', false)
    .action(async (opts: Omit<ReportOptions, 'runsDirDefault'>) => setCode(await report({ ...opts, runsDirDefault }, io)));

  cli
    .command('check')
    .description('a CI gate: exit 0 when every threshold holds over the window, 1 when one is broken (each printed with its group and measured value)')
    .option('--db <store>', DB_HELP, dbOption)
    .option('--since <duration>', 'the last 15m, 1h, 24h, … (default: everything)', parseDuration)
    .option('--from <time>', 'window start', (v: string) => parseTime(v))
    .option('--to <time>', 'window end', (v: string) => parseTime(v))
    .option('--by <dimension>', `check each ${GROUP_BY.join('|')} on its own`, groupBy)
    .option('--flow <flow_id>', 'only runs of this flow')
    .option('--p95-latency-ms <n>', 'fail when p95 time per run exceeds n ms', number)
    .option('--p99-latency-ms <n>', 'fail when p99 time per run exceeds n ms', number)
    .option('--p95-cost-usd <x>', 'fail when p95 cost per run exceeds x', number)
    .option('--max-error-rate <r>', 'fail when the share of failed runs exceeds r (0.05 or 5%)', rate)
    .option('--min-success-rate <r>', 'fail when the share of successful runs is below r', rate)
    .option('--max-cost-usd <x>', 'fail when the window\'s total cost exceeds x', number)
    .option('--rule <rule>', 'a rule in the threshold language, bad when true: "p95(cost_usd) > 0.02", "error_rate > 5%" (repeat for several)', collect, [])
    .option('--baseline <report.json>', 'a saved `report --json` (e.g. main\'s) to compare p95s with')
    .option('--max-regression <r>', 'with --baseline: fail when a p95 grew more than this (default 10%)', rate)
    .option('--allow-empty', 'pass when the window holds no runs', false)
    .option('--json', 'print the results as JSON', false)
    .action(async (opts: Record<string, unknown> & { rule: string[] }) => {
      const rules = [...opts.rule];
      for (const [flag, toRule] of Object.entries(SHORTHAND)) {
        const value = opts[flag];
        if (typeof value === 'number') rules.push(toRule(String(value)));
      }
      setCode(await check({ ...(opts as unknown as Omit<CheckOptions, 'rules'>), rules }, io));
    });

  cli
    .command('prune')
    .description('delete store rows past their retention now (the same policy run and serve apply in the background)')
    .option('--db <store>', DB_HELP, dbOption)
    .option('--retain-raw <duration>', RETAIN_RAW_HELP, retentionOption)
    .option('--retain-rollups <duration>', RETAIN_ROLLUPS_HELP, retentionOption)
    .action(async (opts: PruneOptions) => setCode(await prune(opts, io)));

  cli
    .command('import')
    .description('load run folders (their events.jsonl) into the store; safe to repeat')
    .option('--runs-dir <dir>', 'runs folder', runsDirDefault)
    .option('--db <store>', DB_HELP, dbOption)
    .action(async (opts: ImportOptions) => setCode(await importRuns(opts, io)));

  cli
    .command('summary')
    .description('the one-line summary ("Execution time: 98ms | …") of each finished run, oldest first')
    .option('--runs-dir <dir>', 'runs folder', runsDirDefault)
    .option('--last <n>', 'only the last n runs', positiveInt)
    .action((opts: { runsDir: string; last?: number }) => setCode(summary(opts, io)));

  registerRun(cli, io, setCode, version(), runsDirDefault);
  registerCompile(cli, io, setCode);
  registerServe(cli, io, setCode);
  registerPush(cli, io, setCode);
  registerPrices(cli, io, setCode);
  registerProxy(cli, io, setCode);
  registerMcp(cli, io, setCode, version(), runsDirDefault);

  return cli;
}

/**
 * Runs the CLI and returns its exit code: 0 done, 1 a user error (one line on stderr),
 * 2 a usage error. Never prints a stack trace for either.
 */
export async function main(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  let code = 0;
  const cli = program(io, (c) => {
    code = c;
  });
  try {
    await cli.parseAsync(normalizeOptArgs(argv), { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end through here with exit code 0.
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof UserError) {
      // The message may quote a file name or a plan's labels: no control character reaches the terminal.
      io.err(`flowmeter: ${err.message}`.split('\n').map(safeMessage).join('\n'));
      return 1;
    }
    throw err;
  }
}
