/**
 * The `flowmeter run` command line: its options, their parsers and defaults. What the
 * command does is in run.ts.
 */
import { InvalidArgumentError } from 'commander';
import type { Command } from 'commander';
import type { OptLevel } from '../runtime/ir/plan.js';
import { parseOptLevel } from './compile.js';
import type { CliIo } from './io.js';
import { DB_HELP, RETAIN_RAW_HELP, RETAIN_ROLLUPS_HELP, dbOption, retentionOption } from './db.js';
import type { RunCommandOptions } from './run.js';

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be an integer >= 0');
  return n;
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!(n > 0) || !Number.isFinite(n)) throw new InvalidArgumentError('must be a number > 0');
  return n;
}

function share(value: string): number {
  const n = Number(value);
  if (!(n >= 0 && n <= 1)) throw new InvalidArgumentError('must be between 0 and 1');
  return n;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function registerRun(cli: Command, io: CliIo, setCode: (code: number) => void, version: string, runsDirDefault: string): void {
  cli
    .command('run')
    .description('run an .ais workflow: print its return value and the run summary; --emit-metrics writes apxm\'s metrics JSON')
    .argument('<file>', 'the .ais workflow')
    .option('-O, --opt <level>', 'optimization level: 0 (no passes) or 1 (inline, DCE, CSE, ask-chain fusion); -O0 and -O1 work too', parseOptLevel, 'O1')
    .option('--input <name=value>', 'a parameter of the @entry flow (repeat for several)', collect, [])
    .option('--dry-run', 'use the seeded simulated provider: no API calls, no cost', false)
    .option('--provider <name>', `simulated, openai or anthropic (default: simulated without an API key, else the one whose key is set)`)
    .option('--model <model>', 'the model every LLM op uses (default: gpt-4o-mini; claude-3-5-haiku-latest for anthropic; FLOWMETER_MODEL)')
    .option('--base-url <url>', 'an OpenAI- or Anthropic-compatible endpoint (vLLM, Ollama, OpenRouter, ...)')
    .option('--emit-metrics <file>', 'write apxm\'s --emit-metrics JSON (with --repeat: one JSON object per run, a line each)')
    .option('--runs-dir <dir>', 'where each run\'s folder (metrics.jsonl, events.jsonl, run.json) goes', runsDirDefault)
    .option('--db <store>', DB_HELP, dbOption)
    .option('--retain-raw <duration>', RETAIN_RAW_HELP, retentionOption)
    .option('--retain-rollups <duration>', RETAIN_ROLLUPS_HELP, retentionOption)
    .option('--repeat <n>', 'run the workflow n times and print the p50/p95/p99 snapshot', positiveInt, 1)
    .option('--parallel <n>', 'runs of --repeat in flight at once', positiveInt, 1)
    .option('--concurrency <n>', 'most workflow nodes in flight at once (per graph: at -O0 each called flow has its own)', positiveInt)
    .option('--llm-concurrency <n>', 'most LLM calls in flight at once (per graph, like --concurrency; default 64)', positiveInt)
    .option('--retries <n>', 'retries of a rate-limited, timed-out or 5xx call (exponential backoff, Retry-After honoured)', nonNegativeInt, 2)
    .option('--timeout <ms>', 'end a run after this long (outcome timeout), aborting calls in flight', positiveNumber)
    .option('--max-cost-usd <usd>', 'budget per run: stop before the next paid call once spent', positiveNumber)
    .option('--max-tokens <n>', 'budget per run in tokens', positiveInt)
    .option('--config <file>', 'runtime config (tool modules, memory file); default: flowmeter.config.json next to the workflow, else in the working directory')
    .option('--no-cache', 'compile afresh instead of reusing the cached plan')
    .option('--cache-dir <dir>', 'where compiled plans are cached', '.flowmeter/cache/plans')
    .option('--seed <n>', 'simulated provider: seed', nonNegativeInt)
    .option('--time-scale <x>', 'simulated provider: multiply latencies (0.01 runs a 1 s call in 10 ms)', positiveNumber)
    .option('--fail-rate <share>', 'simulated provider: share of calls answered 429 with Retry-After', share)
    .option('--pushgateway <url>', 'push the metrics to a Prometheus Pushgateway when done (job "flowmeter")')
    .option('-q, --quiet', 'no structured log lines on stderr', false)
    .action(async (file: string, opts: Omit<RunCommandOptions, 'file' | 'level' | 'timeoutMs'> & { opt: OptLevel; timeout?: number }) => {
      const { opt, timeout, ...rest } = opts;
      // Loaded on use: the runtime is not needed to print help or run another command.
      const { runCommand } = await import('./run.js');
      setCode(await runCommand({ ...rest, file, level: opt, ...(timeout !== undefined ? { timeoutMs: timeout } : {}) }, io, { version }));
    });
}
