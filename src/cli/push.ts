import { existsSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import { PrometheusView } from '../export/prometheus/index.js';
import type { ProfileName } from '../export/prometheus/index.js';
import { PushgatewayError, pushMetrics } from '../export/pushgateway.js';
import type { FlowEvent } from '../model/index.js';
import { RunsTailer, ServeConfigError, resolveServeSettings } from '../server/index.js';
import type { Env } from '../server/index.js';
import type { CliIo } from './io.js';
import { UserError } from './io.js';
import { DEFAULT_RUNS_DIR, positiveIntArg, profileArg, profilesOf } from './serve.js';

export const DEFAULT_JOB = 'flowmeter';

export interface PushCommandOptions {
  /** The gateway's base URL, e.g. http://127.0.0.1:9091. */
  readonly pushgateway: string;
  readonly job?: string;
  /** Only runs of this flow, pushed to the group `{job, flow_id}`. */
  readonly flow?: string;
  readonly profile?: string | readonly ProfileName[];
  readonly runsDir?: string;
  readonly timeoutMs?: number;
}

function runOf(event: FlowEvent): { runId: string; flowId: string } {
  return event.kind === 'run_started' || event.kind === 'run_finished'
    ? { runId: event.run.run_id, flowId: event.run.flow_id }
    : { runId: event.run_id, flowId: event.flow_id };
}

/**
 * `flowmeter push`: the metrics of every run in a runs folder (or of one flow's runs),
 * pushed once to a Pushgateway, for batch jobs that end before a scrape. The push is a
 * PUT, which replaces the group: the folder holds the whole history, so each push carries
 * the full, still monotonic, counters and a re-push never counts a run twice.
 */
export async function push(options: PushCommandOptions, io: CliIo, context: { readonly env?: Env } = {}): Promise<number> {
  const env = context.env ?? process.env;
  try {
    const settings = resolveServeSettings({}, env);
    if (!settings.enabled) {
      // Exit 0: push is a step of a batch pipeline, and switching metrics off must not
      // fail the pipeline it measures (DESIGN.md principle 3).
      io.err(`flowmeter: metrics are disabled (${settings.disabledBy ?? 'FLOWMETER_ENABLE_METRICS=0'}); nothing pushed`);
      return 0;
    }
    const profiles = profilesOf(options.profile);
    const runsDir = options.runsDir ?? env.FLOWMETER_RUNS_DIR ?? DEFAULT_RUNS_DIR;
    if (!existsSync(runsDir) || !statSync(runsDir).isDirectory()) {
      throw new UserError(`${runsDir}: no such runs folder (run something first, or pass --runs-dir)`);
    }
    const job = options.job ?? DEFAULT_JOB;
    const view = new PrometheusView({ profiles });
    const runs = new Set<string>();
    let events = 0;
    const warnings: string[] = [];
    const tailer = new RunsTailer({
      runsDir,
      onEvent: (event) => {
        const { runId, flowId } = runOf(event);
        if (options.flow !== undefined && flowId !== options.flow) return;
        view.record(event);
        runs.add(runId);
        events++;
      },
      onError: (err) => warnings.push(err instanceof Error ? err.message : String(err)),
    });
    await tailer.poll();
    await tailer.close();
    for (const warning of warnings) io.err(`flowmeter: warning: ${warning.split('\n')[0] ?? ''}`);

    const grouping: Record<string, string> = options.flow === undefined ? {} : { flow_id: options.flow };
    try {
      await pushMetrics({ url: options.pushgateway, job, grouping, body: view.render('text'), timeoutMs: options.timeoutMs });
    } catch (err) {
      if (err instanceof PushgatewayError) throw new UserError(err.message);
      // A URL that is not one, a bad job name: the user's to fix, said in one line.
      throw new UserError(err instanceof Error ? err.message.replace(/^pushMetrics: /, '') : String(err));
    }
    const group = Object.entries({ job, ...grouping }).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ');
    const malformed = tailer.stats().malformed;
    const skipped = malformed > 0 ? `; ${malformed} malformed line(s) skipped` : '';
    io.out(`flowmeter: pushed ${events} events of ${runs.size} runs to ${options.pushgateway} (${group})${skipped}`);
    return 0;
  } catch (err) {
    if (err instanceof UserError || err instanceof ServeConfigError) {
      io.err(`flowmeter: ${err.message}`);
      return 1;
    }
    throw err;
  }
}

export function registerPush(cli: Command, io: CliIo, setCode: (code: number) => void): void {
  cli
    .command('push')
    .description("push the metrics of the runs in a runs folder to a Prometheus Pushgateway once, grouped by job (and flow), for batch runs")
    .requiredOption('--pushgateway <url>', 'the Pushgateway base URL, e.g. http://127.0.0.1:9091')
    .option('--job <name>', 'the job label of the group', DEFAULT_JOB)
    .option('--flow <flow_id>', 'only runs of this flow, pushed to the group {job, flow_id}')
    .option('--profile <names>', 'metric names: default, arx, enzu, or a comma list', profileArg, 'default')
    .option('--runs-dir <dir>', `runs folder (default ${DEFAULT_RUNS_DIR}; env FLOWMETER_RUNS_DIR)`)
    .option('--timeout-ms <ms>', 'how long to wait for the gateway', positiveIntArg, 10_000)
    .action(async (opts: PushCommandOptions) => setCode(await push(opts, io)));
}
