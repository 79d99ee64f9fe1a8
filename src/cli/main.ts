import { createRequire } from 'node:module';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import type { CliIo } from './io.js';
import { UserError, processIo } from './io.js';
import { normalizeOptArgs, registerCompile } from './compile.js';
import { registerProxy } from './proxy.js';
import { registerPush } from './push.js';
import { report, summary } from './report.js';
import { registerRun } from './run-options.js';
import { registerServe } from './serve.js';

const DEFAULT_RUNS_DIR = '.flowmeter/runs';

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive integer');
  return n;
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
    .description('p50/p95/p99 of elapsed time, cost and tokens, outcomes and retries over the finished runs in a runs folder')
    .option('--runs-dir <dir>', 'runs folder', runsDirDefault)
    .option('--flow <flow_id>', 'only runs of this flow')
    .option('--json', 'print the snapshot as JSON (enzu snapshot keys)', false)
    .action((opts: { runsDir: string; flow?: string; json: boolean }) => setCode(report(opts, io)));

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
  registerProxy(cli, io, setCode);

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
      io.err(`flowmeter: ${err.message}`);
      return 1;
    }
    throw err;
  }
}
