/**
 * `flowmeter run` end to end on the shipped example workflows: the emit-metrics JSON has
 * apxm's shape, and its `llm` and `execution` sections agree with the run's metrics.jsonl
 * and run.json, which the SDK wrote from the same events.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import type { ApxmMetrics } from '../../src/runtime/execute/index.js';

const root = join(import.meta.dirname, '..', '..');
const examples = join(root, 'examples', 'workflows');
const dir = mkdtempSync(join(tmpdir(), 'flowmeter-run-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function capture(): CliIo & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (l) => stdout.push(l), err: (l) => stderr.push(l) };
}

interface MetricsLine {
  readonly event: string;
  readonly duration_ms: number;
  readonly prompt_tokens?: number;
  readonly completion_tokens?: number;
  readonly run_id: string;
}

function runFolder(runsDir: string): string {
  const runs = readdirSync(runsDir);
  expect(runs).toHaveLength(1);
  return join(runsDir, runs[0]!);
}

function metricsLines(folder: string): MetricsLine[] {
  return readFileSync(join(folder, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as MetricsLine);
}

function nearestRank(sorted: number[], q: number): number {
  return sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1]!;
}

const WORKFLOWS: Record<string, { inputs: string[]; o0Requests: number; o1Requests: number }> = {
  'chain.ais': { inputs: ['idea=tides explain history'], o0Requests: 5, o1Requests: 1 },
  'research.ais': { inputs: ['topic=battery chemistry'], o0Requests: 4, o1Requests: 4 },
  // plan, reason and verify keep their own calls at -O1 (apxm fuses ask chains only).
  'tools.ais': { inputs: ['question=what is 6 times 7'], o0Requests: 3, o1Requests: 3 },
  'memory.ais': { inputs: ['user=ada', 'message=I like tea'], o0Requests: 2, o1Requests: 2 },
  'routing.ais': { inputs: ['ticket=my invoice is wrong'], o0Requests: 2, o1Requests: 2 },
  'agents.ais': { inputs: ['goal=compare two databases'], o0Requests: 4, o1Requests: 4 },
};

async function run(file: string, level: 'O0' | 'O1', inputs: string[], extra: string[] = []) {
  const tag = `${file}-${level}-${extra.length}`;
  const runsDir = join(dir, tag, 'runs');
  const out = join(dir, `${tag}.json`);
  const io = capture();
  const args = ['run', join(examples, file), `-${level}`, '--dry-run', '--time-scale', '0.01', '--seed', '5', '--quiet', '--runs-dir', runsDir, '--emit-metrics', out, '--cache-dir', join(dir, 'cache'), ...inputs.flatMap((i) => ['--input', i]), ...extra];
  const code = await main(args, io);
  return { code, io, runsDir, out };
}

describe('flowmeter run on the example workflows', () => {
  for (const [file, spec] of Object.entries(WORKFLOWS)) {
    for (const level of ['O0', 'O1'] as const) {
      it(`${file} at -${level}: emit-metrics agrees with metrics.jsonl and run.json`, async () => {
        const { code, io, runsDir, out } = await run(file, level, spec.inputs);
        expect(io.stderr.join('\n')).not.toMatch(/\n\s+at /);
        expect(code, io.stderr.join('\n')).toBe(0);
        const m = JSON.parse(readFileSync(out, 'utf8')) as ApxmMetrics;
        expect(Object.keys(m)).toEqual(['input', 'optimization_level', 'execution', 'scheduler', 'llm', 'link_phases', 'overhead_ratio_pct']);
        expect(m.input).toBe(join(examples, file));
        expect(m.optimization_level).toBe(level);
        expect(m.execution.status).toBe('success');

        const folder = runFolder(runsDir);
        const lines = metricsLines(folder);
        const calls = lines.filter((l) => l.event === 'llm_call');
        expect(m.llm.total_requests).toBe(level === 'O0' ? spec.o0Requests : spec.o1Requests);
        expect(calls).toHaveLength(m.llm.total_requests);
        expect(m.llm.total_input_tokens).toBe(calls.reduce((a, c) => a + c.prompt_tokens!, 0));
        expect(m.llm.total_output_tokens).toBe(calls.reduce((a, c) => a + c.completion_tokens!, 0));
        const durations = calls.map((c) => c.duration_ms).sort((a, b) => a - b);
        expect(m.llm.p50_latency_ms).toBe(nearestRank(durations, 0.5));
        expect(m.llm.p99_latency_ms).toBe(nearestRank(durations, 0.99));
        const mean = durations.reduce((a, b) => a + b, 0) / durations.length;
        expect(Math.abs(m.llm.avg_latency_ms! - mean)).toBeLessThanOrEqual(mean * 1e-4);

        const runJson = JSON.parse(readFileSync(join(folder, 'run.json'), 'utf8')) as { llm_calls: number; outcome: string; summary: string; input_tokens: number };
        expect(runJson.outcome).toBe('success');
        expect(runJson.llm_calls).toBe(m.llm.total_requests);
        expect(runJson.input_tokens).toBe(m.llm.total_input_tokens);
        // The summary line printed last is run.json's.
        expect(io.stdout.at(-1)).toBe(runJson.summary);

        // Every scheduler field is a measurement: phases add up, nothing negative, counts consistent.
        const b = m.scheduler.overhead_breakdown;
        const sum = b.ready_set_update_us + b.work_stealing_us + b.input_collection_us + b.operation_dispatch_us + b.token_routing_us;
        expect(Math.abs(sum - m.scheduler.per_op_overhead_us)).toBeLessThanOrEqual(m.scheduler.per_op_overhead_us * 0.01 + 0.001);
        for (const v of Object.values(b)) expect(v).toBeGreaterThan(0);
        // The simulated classifier answers with filler words, so routing's switch matches no
        // case and fails over to its default: one failed operation, rescued, run successful.
        const rescued = file === 'routing.ais' ? 1 : 0;
        expect(m.scheduler.operations_failed).toBe(rescued);
        expect(m.execution.nodes_failed).toBe(rescued);
        expect(m.execution.nodes_executed).toBe(m.scheduler.operations_executed - rescued);
        expect(m.scheduler.max_parallelism).toBeGreaterThanOrEqual(1);
        const ratio = ((m.scheduler.per_op_overhead_us * m.scheduler.operations_executed) / (m.llm.avg_latency_ms! * m.llm.total_requests * 1000)) * 100;
        expect(Math.abs(m.overhead_ratio_pct! / ratio - 1)).toBeLessThan(0.01);
        for (const v of Object.values(m.link_phases)) expect(v).toBeGreaterThan(0);
        expect(m.link_phases.runtime_ms).toBeGreaterThanOrEqual(m.execution.duration_ms);
      });
    }
  }

  it('runs the parallel research asks side by side', async () => {
    const { out } = await run('research.ais', 'O1', WORKFLOWS['research.ais']!.inputs, ['--no-cache']);
    const m = JSON.parse(readFileSync(out, 'utf8')) as ApxmMetrics;
    expect(m.scheduler.max_parallelism).toBe(3);
  });

  it('reuses the cached plan on the second run', async () => {
    const first = await run('chain.ais', 'O1', WORKFLOWS['chain.ais']!.inputs, ['--repeat', '1']);
    expect(first.code).toBe(0);
    const cached = readdirSync(join(dir, 'cache')).filter((f) => f.endsWith('.plan.json'));
    expect(cached.length).toBeGreaterThan(0);
  });
});
