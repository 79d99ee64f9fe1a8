import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JsonlSink, LogSink } from '../../src/sinks/index.js';
import { llmCall, retry, runFinished, runStarted, toolCall } from './fixtures.js';

/**
 * The seed's own jq and grep one-liners, run verbatim on files the sinks produce: they
 * are the contract zerg's users rely on. jq is required in CI (the test fails there
 * without it); on a developer machine without jq the test is skipped.
 */
const hasJq = spawnSync('jq', ['--version']).status === 0;
const inCi = process.env.CI === 'true' || process.env.CI === '1';

let dir: string;
let metrics: string;
let log: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'flowmeter-seed-'));
  const jsonl = new JsonlSink({ runsDir: join(dir, 'runs') });
  const logs = new LogSink({ destination: { path: join(dir, 'logs', 'backend.log') } });
  const events = [
    runStarted('r1'),
    llmCall({ run_id: 'r1', phase: 'initial', duration_ms: 111 }),
    toolCall({ run_id: 'r1', tool: 'ssh_exec', duration_ms: 1111 }),
    retry({ run_id: 'r1' }),
    toolCall({ run_id: 'r1', tool: 'http_request', duration_ms: 40, success: false, error: 'HTTP 503' }),
    llmCall({ run_id: 'r1', phase: 'summary', duration_ms: 19500, input_tokens: null, total_tokens: null }),
    llmCall({ run_id: 'r1', phase: 'synthesis', model: 'gpt-4o', duration_ms: 7 }),
    runFinished('r1'),
  ];
  jsonl.write(events);
  logs.write(events);
  jsonl.close();
  logs.close();
  metrics = join(dir, 'runs', 'r1', 'metrics.jsonl');
  log = join(dir, 'logs', 'backend.log');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sh(command: string): string {
  return execFileSync('sh', ['-c', command], { encoding: 'utf8', env: { ...process.env, METRICS: metrics, LOG: log } });
}

describe.skipIf(!hasJq && !inCi)('the seed\'s one-liners on our files', () => {
  it('has jq installed (CI installs it)', () => {
    expect(hasJq, 'jq is required to check the seed queries; install it in CI').toBe(true);
  });

  it('finds the slowest calls with jq -s sort_by(.duration_ms)', () => {
    const top = JSON.parse(sh(`jq -s 'sort_by(.duration_ms) | reverse | .[0:5]' "$METRICS"`)) as { duration_ms: number }[];
    expect(top.map((e) => e.duration_ms)).toEqual([19500, 1111, 111, 40, 7]);
  });

  it('adds up LLM time', () => {
    expect(sh(`jq -s '[.[] | select(.event=="llm_call") | .duration_ms] | add' "$METRICS"`).trim()).toBe('19618');
  });

  it('counts tool calls', () => {
    expect(sh(`jq -s '[.[] | select(.event=="tool_call")] | length' "$METRICS"`).trim()).toBe('2');
  });

  it('finds failed tools', () => {
    const failed = JSON.parse(sh(`jq -s '.[] | select(.event=="tool_call" and .success==false)' "$METRICS"`)) as {
      tool: string;
      error: string;
    };
    expect(failed).toMatchObject({ tool: 'http_request', error: 'HTTP 503' });
  });

  it('reads the run event back from the log with grep | jq', () => {
    const record = JSON.parse(sh(`grep flowmeter.run_event.v1 "$LOG" | jq .`)) as Record<string, unknown>;
    expect(record).toMatchObject({ type: 'flowmeter.run_event.v1', run_id: 'r1', outcome: 'success' });
  });
});

describe('the seed\'s grep patterns on the log file', () => {
  it('finds LLM calls and failed tool calls', () => {
    expect(sh(`grep llm_call_complete "$LOG" | wc -l`).trim()).toBe('3');
    const failed = sh(`grep "tool_call_complete" "$LOG" | grep "success=false"`);
    expect(failed).toContain('tool=http_request');
    expect(failed.trim().split('\n')).toHaveLength(1);
  });

  it('extracts durations with the seed\'s awk pipeline', () => {
    const out = sh(`grep "duration_ms=" "$LOG" | awk -F'duration_ms=' '{print $2}' | awk '{print $1}' | sort -n | tail -20`);
    expect(out.trim().split('\n')).toEqual(['7', '40', '111', '1111', '19500']);
  });

  it('counts operations by model', () => {
    const out = sh(`grep "llm_call_complete" "$LOG" | grep -o "model=[^ ]*" | sort | uniq -c`);
    expect(out.trim().split('\n').map((l) => l.trim().replace(/ +/, ' '))).toEqual(['1 model=gpt-4o', '2 model=gpt-5-mini']);
  });

  it('tracks one run by its id', () => {
    expect(readFileSync(log, 'utf8').split('\n').filter((l) => l.includes('run_id=r1'))).toHaveLength(6);
  });
});
