/**
 * `flowmeter run workflow.ais`: compile (or reuse the cached plan), validate, and run the
 * entry flow as measured SDK runs; print the return value and the summary line; with
 * `--emit-metrics` write apxm's JSON. Exit 0 when every run succeeded, 1 when a run failed
 * or the input is wrong (one clear line, or `file:line:col:` diagnostics), 2 for usage, 130
 * when interrupted (Ctrl-C).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createMeter } from '../meter/meter.js';
import { parseStoreSetting } from '../store/open.js';
import type { StoreSetting } from '../store/open.js';
import type { Meter } from '../meter/meter.js';
import { QuantileSketch, formatSnapshotTable } from '../stats/index.js';
import { LlmCallCollector, apxmMetrics, runWorkflow } from '../runtime/execute/index.js';
import type { ApxmMetrics, WorkflowRun } from '../runtime/execute/index.js';
import { loadOrCompile } from '../runtime/ir/artifact.js';
import type { OptLevel, Plan } from '../runtime/ir/plan.js';
import { validatePlan } from '../runtime/ir/validate.js';
import { LongTermMemory, createRunMemory } from '../runtime/memory/index.js';
import type { Provider, ProviderName } from '../runtime/providers/index.js';
import { createProvider, defaultProviderName, isProviderName, PROVIDER_NAMES } from '../runtime/providers/index.js';
import { DEFAULT_RETRY, warmUpScheduler } from '../runtime/scheduler/index.js';
import { RuntimeConfigError, ToolConfigError, createToolRegistry, loadRuntimeConfig } from '../runtime/tools/index.js';
import type { RuntimeConfig, ToolRegistry } from '../runtime/tools/index.js';
import type { CliIo } from './io.js';
import { UserError } from './io.js';
import { printCompileDiagnostics, readSourceOrReason } from './compile.js';
import { ProgressBar } from './progress.js';

export interface RunCommandOptions {
  readonly file: string;
  readonly level: OptLevel;
  /** `name=value` pairs for the entry flow's parameters. */
  readonly input: readonly string[];
  readonly dryRun: boolean;
  readonly provider?: string;
  readonly model?: string;
  readonly baseUrl?: string;
  readonly emitMetrics?: string;
  readonly runsDir: string;
  /** The store (`--db`); default: FLOWMETER_DB, else flowmeter.db beside the runs folder. */
  readonly db?: StoreSetting;
  /** Retention of store rows, in ms (`--retain-raw`, `--retain-rollups`). */
  readonly retainRaw?: number;
  readonly retainRollups?: number;
  readonly repeat: number;
  /** Runs of `--repeat` in flight at once. */
  readonly parallel: number;
  /** Most nodes in flight at once within a graph. */
  readonly concurrency?: number;
  /** Most LLM calls in flight at once within a run. */
  readonly llmConcurrency?: number;
  readonly retries: number;
  readonly timeoutMs?: number;
  readonly maxCostUsd?: number;
  readonly maxTokens?: number;
  readonly config?: string;
  readonly cache: boolean;
  readonly cacheDir: string;
  readonly seed?: number;
  readonly timeScale?: number;
  readonly failRate?: number;
  readonly pushgateway?: string;
  readonly quiet: boolean;
}

export interface RunContext {
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** The flowmeter version that stamps plans. */
  readonly version: string;
}

/**
 * LLM calls in flight at once per graph when `--llm-concurrency` is not given. Without a
 * bound, a flow of 100,000 independent asks started every call at once: about 10 KB of
 * promises, closures, timers and async context per call in flight, 1.6 GB in all, and
 * 100,000 simultaneous requests no provider's rate limit would accept. Flows with fewer
 * parallel calls than this run exactly as before.
 */
export const DEFAULT_LLM_CONCURRENCY = 64;

/** 128 + SIGINT, as shells report a command ended by Ctrl-C. */
export const EXIT_INTERRUPTED = 130;

export const DEFAULT_MODELS: Readonly<Record<ProviderName, string>> = {
  simulated: 'gpt-4o-mini',
  openai: 'gpt-4o-mini',
  anthropic: 'claude-3-5-haiku-latest',
};

export function parseInputs(pairs: readonly string[]): Record<string, string> {
  const inputs: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UserError(`--input ${JSON.stringify(pair)}: expected name=value`);
    inputs[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return inputs;
}

function readSource(file: string): string {
  const source = readSourceOrReason(file);
  if ('reason' in source) throw new UserError(`cannot read ${file}: ${source.reason}`);
  return source.text;
}

interface Prepared {
  readonly plan: Plan;
  readonly compileMs: number;
  readonly artifactMs: number;
  readonly validationMs: number;
  readonly tools: ToolRegistry;
  readonly ltmPath: string | undefined;
}

/** Compile (or load the cached plan), load tools, validate. Returns an exit code on a compile error. */
async function prepare(o: RunCommandOptions, inputs: Record<string, string>, io: CliIo, ctx: RunContext): Promise<Prepared | number> {
  const text = readSource(o.file);
  const compiled = loadOrCompile({ file: o.file, text, level: o.level, compilerVersion: ctx.version, cacheDir: o.cacheDir, noCache: !o.cache });
  printCompileDiagnostics(io, o.file, compiled.diagnostics, compiled.omitted ?? 0, text);
  if (compiled.plan === undefined) return 1;
  if (compiled.cacheError !== undefined) io.err(`flowmeter: warning: the plan cache could not be written (${String(compiled.cacheError)}); running without it`);
  let config: RuntimeConfig;
  let tools: ToolRegistry;
  try {
    config = await loadRuntimeConfig({ ...(o.config !== undefined ? { configPath: o.config } : {}), searchDirs: [path.dirname(path.resolve(o.file)), process.cwd()] });
    tools = await createToolRegistry({ modules: config.tools });
  } catch (err) {
    if (err instanceof RuntimeConfigError || err instanceof ToolConfigError) throw new UserError(err.message);
    throw err;
  }
  if (o.dryRun) simulateMissingTools(compiled.plan, tools, io);
  const v0 = performance.now();
  const issues = validatePlan(compiled.plan, { tools, inputs });
  const validationMs = performance.now() - v0;
  if (issues.length > 0) throw new UserError(`${o.file}: ${issues.map((i) => i.message).join('\n')}`);
  const entry = compiled.plan.flows[compiled.plan.entry];
  for (const name of Object.keys(inputs)) {
    if (entry !== undefined && !entry.params.includes(name)) io.err(`flowmeter: warning: --input ${name} is not a parameter of ${compiled.plan.entry} (${entry.params.join(', ') || 'it takes none'}); ignored`);
  }
  return { plan: compiled.plan, compileMs: compiled.timings.compile_ms, artifactMs: compiled.timings.artifact_ms, validationMs, tools, ltmPath: config.ltmPath };
}

/**
 * A dry run stands in for every tool the plan calls that no module provides (an undeclared
 * name is a tool invocation): a seeded, deterministic answer, named in one warning. A live
 * run refuses to start instead (validatePlan's "unknown tool").
 */
function simulateMissingTools(plan: Plan, tools: ToolRegistry, io: CliIo): void {
  const missing = new Set<string>();
  validatePlan(plan, {
    tools: {
      has: (name) => {
        if (!tools.has(name)) missing.add(name);
        return true;
      },
      names: () => [],
    },
  });
  if (missing.size === 0) return;
  for (const name of missing) {
    tools.register({
      name,
      description: `simulated for a dry run: no tool module provides "${name}"`,
      run: (input) => `[simulated ${name}] ${Object.values(input).map((v) => String(v)).join(' | ').slice(0, 200)}`,
    });
  }
  io.err(`flowmeter: warning: no tool module provides ${[...missing].map((n) => `"${n}"`).join(', ')}; simulated in this dry run (a live run needs them)`);
}

function makeProvider(o: RunCommandOptions, env: Readonly<Record<string, string | undefined>>): Provider {
  if (o.dryRun && o.provider !== undefined && o.provider !== 'simulated') throw new UserError(`--dry-run runs the simulated provider; drop --provider ${o.provider}`);
  const name = o.provider ?? defaultProviderName(o.dryRun, env);
  if (!isProviderName(name)) throw new UserError(`unknown provider "${name}"; use one of ${PROVIDER_NAMES.join(', ')}`);
  try {
    return createProvider(
      name,
      {
        ...(o.seed !== undefined ? { seed: o.seed } : {}),
        ...(o.timeScale !== undefined ? { timeScale: o.timeScale } : {}),
        ...(o.failRate !== undefined ? { rateLimitRate: o.failRate } : {}),
        ...(o.baseUrl !== undefined ? { baseUrl: o.baseUrl } : {}),
      },
      env,
    );
  } catch (err) {
    throw new UserError((err as Error).message);
  }
}

export async function runCommand(o: RunCommandOptions, io: CliIo, ctx: RunContext): Promise<number> {
  const env = ctx.env ?? process.env;
  const inputs = parseInputs(o.input);
  const prepared = await prepare(o, inputs, io, ctx);
  if (typeof prepared === 'number') return prepared;
  const provider = makeProvider(o, env);
  const model = o.model ?? env.FLOWMETER_MODEL ?? DEFAULT_MODELS[provider.name as ProviderName] ?? 'gpt-4o-mini';
  const collector = new LlmCallCollector();
  // `wait`: a workflow that records faster than the disk writes is slowed down, never thinned
  // out; its metrics.jsonl has a line for every call.
  const meter = createMeter({
    runsDir: o.runsDir,
    onFull: 'wait',
    sinks: [collector],
    env,
    ...(o.quiet ? { log: false } : {}),
    ...(o.db !== undefined ? { store: o.db } : {}),
    ...(o.retainRaw !== undefined || o.retainRollups !== undefined
      ? { retention: { ...(o.retainRaw !== undefined ? { raw: o.retainRaw } : {}), ...(o.retainRollups !== undefined ? { rollups: o.retainRollups } : {}) } }
      : {}),
    // Store problems are told once, as one line, like every other CLI message.
    onWarning: (message) => io.err(message),
  });
  try {
    await meter.ready();
  } catch (err) {
    // A server named for the store must be there; a SQLite file that cannot open was
    // reported by the warning above and the run goes on without it.
    const db = o.db ?? (env.FLOWMETER_DB !== undefined && env.FLOWMETER_DB !== '' ? parseStoreSetting(env.FLOWMETER_DB) : false);
    if (db !== false && 'url' in db) {
      await meter.close();
      throw new UserError(err instanceof Error ? err.message : String(err));
    }
  }
  const ltm = new LongTermMemory({ ...(prepared.ltmPath !== undefined ? { path: prepared.ltmPath } : {}) });
  // The first graph a process runs pays V8's one-time compilation of the scheduler's code;
  // a no-op graph takes that cost here, so the overhead fields measure scheduling.
  await warmUpScheduler();
  const budget = {
    ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
    ...(o.maxCostUsd !== undefined ? { maxCostUsd: o.maxCostUsd } : {}),
    ...(o.maxTokens !== undefined ? { maxTokens: o.maxTokens } : {}),
  };
  // Ctrl-C cancels the runs in flight (outcome `cancelled`, their records still written)
  // and starts no more; a second Ctrl-C quits at once.
  const interrupt = new AbortController();
  const onSigint = (): void => {
    if (interrupt.signal.aborted) process.exit(EXIT_INTERRUPTED);
    io.err('flowmeter: interrupted; cancelling the run (Ctrl-C again to quit at once)');
    interrupt.abort(new Error('interrupted'));
  };
  process.on('SIGINT', onSigint);
  const one = async (): Promise<{ run: WorkflowRun; metrics: ApxmMetrics }> => {
    const run = await runWorkflow({
      signal: interrupt.signal,
      plan: prepared.plan,
      meter,
      provider,
      model,
      tools: prepared.tools,
      memory: () => createRunMemory({ ltm }),
      inputs,
      print: (text) => io.out(text),
      ...(o.concurrency !== undefined ? { concurrency: o.concurrency } : {}),
      llmConcurrency: o.llmConcurrency ?? DEFAULT_LLM_CONCURRENCY,
      retry: o.retries <= 0 ? false : { ...DEFAULT_RETRY, maxAttempts: o.retries + 1 },
      budget,
      execMode: provider.name === 'simulated' ? 'dry_run' : 'live',
    });
    await meter.flush();
    const metrics = apxmMetrics({ input: o.file, level: o.level, run, llmCalls: collector.take(run.runId), compileMs: prepared.compileMs, artifactMs: prepared.artifactMs, validationMs: prepared.validationMs });
    return { run, metrics };
  };
  try {
    const code = o.repeat === 1 ? await single(o, io, one) : await repeated(o, io, meter, one, interrupt.signal);
    return interrupt.signal.aborted ? EXIT_INTERRUPTED : code;
  } finally {
    process.off('SIGINT', onSigint);
    await finish(o, io, meter, provider);
  }
}

async function single(o: RunCommandOptions, io: CliIo, one: () => Promise<{ run: WorkflowRun; metrics: ApxmMetrics }>): Promise<number> {
  const { run, metrics } = await one();
  if (run.ok) io.out(run.output ?? '');
  else io.err(`flowmeter: run failed: ${run.error instanceof Error ? run.error.message : String(run.error)}`);
  if (run.summary !== undefined) io.out(run.summary);
  if (o.emitMetrics !== undefined) writeMetrics(o.emitMetrics, `${JSON.stringify(metrics, null, 2)}\n`);
  return run.ok ? 0 : 1;
}

async function repeated(o: RunCommandOptions, io: CliIo, meter: Meter, one: () => Promise<{ run: WorkflowRun; metrics: ApxmMetrics }>, stop: AbortSignal): Promise<number> {
  const bar = new ProgressBar(io.errRaw ?? (() => undefined), io.errIsTTY === true && io.errRaw !== undefined);
  const lines: string[] = new Array<string>(o.repeat);
  // The bar's p50 from a sketch: constant work per run, however long the series.
  const durations = new QuantileSketch();
  let next = 0;
  let done = 0;
  let failed = 0;
  const t0 = Date.now();
  const worker = async (): Promise<void> => {
    while (next < o.repeat && !stop.aborted) {
      const index = next++;
      const { run, metrics } = await one();
      lines[index] = JSON.stringify(metrics);
      done++;
      if (!run.ok) failed++;
      durations.add(run.durationMs);
      bar.update({ done, total: o.repeat, failed, p50Ms: durations.quantile(0.5) ?? undefined, elapsedMs: Date.now() - t0 });
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.parallel, o.repeat) }, worker));
  bar.end();
  io.out(`${done} runs: ${done - failed} succeeded, ${failed} failed${done < o.repeat ? ` (interrupted: ${o.repeat - done} not started)` : ''}`);
  io.out(formatSnapshotTable(meter.snapshot()).trimEnd());
  // One apxm object per run, a line each (JSON Lines): `jq` reads it as it reads one object.
  // Runs an interrupt kept from starting leave holes, which map skips and join leaves empty.
  if (o.emitMetrics !== undefined) writeMetrics(o.emitMetrics, lines.map((l) => `${l}\n`).join(''));
  return failed === 0 ? 0 : 1;
}

function writeMetrics(file: string, text: string): void {
  try {
    writeFileSync(file, text);
  } catch (err) {
    throw new UserError(`cannot write --emit-metrics ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

async function finish(o: RunCommandOptions, io: CliIo, meter: Meter, provider: Provider): Promise<void> {
  if (o.pushgateway !== undefined) {
    try {
      await meter.push({ url: o.pushgateway, job: 'flowmeter' });
    } catch (err) {
      // The runs happened and their files are written; a gateway that is down must not hide that.
      io.err(`flowmeter: push to ${o.pushgateway} failed: ${(err as Error).message}`);
    }
  }
  await meter.close();
  await provider.close?.();
}
