import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { RUN_EVENT_LOG_TYPE } from '../../src/model/index.js';
import type { FlowEvent } from '../../src/model/index.js';
import { LogSink } from '../../src/sinks/index.js';
import type { LogSinkOptions } from '../../src/sinks/index.js';
import { llmCall, retry, runFinished, runStarted, toolCall } from './fixtures.js';

/** A LogSink writing into memory; `chunks` shows how many writes each batch took. */
function capture(options: Omit<LogSinkOptions, 'destination'> = {}) {
  const chunks: string[] = [];
  const sink = new LogSink({ ...options, destination: { write: (chunk: string) => chunks.push(chunk) } });
  const lines = (): string[] => chunks.join('').split('\n').filter((line) => line !== '');
  return { sink, chunks, lines };
}

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('LogSink logfmt', () => {
  it('writes an llm_call_complete line with the end timestamp, INFO and the pairs', () => {
    const { sink, lines } = capture();
    sink.write([llmCall()]);
    expect(lines()).toEqual([
      '2025-12-15T04:08:08.234Z INFO llm_call_complete phase=initial model=gpt-5-mini duration_ms=111 run_id=run-1' +
        ' prompt_tokens=1234 completion_tokens=89 total_tokens=1323 provider=openai flow_id=backup step_id=plan' +
        ' cost_usd=0.0023 ttft_ms=42',
    ]);
  });

  it('omits unknown tokens and cost and warns about failed calls', () => {
    const { sink, lines } = capture();
    sink.write([
      llmCall({ input_tokens: null, output_tokens: null, total_tokens: null, cost_usd: null, step_id: null, error_type: 'rate_limit' }),
    ]);
    const [line] = lines();
    expect(line).toMatch(/^\S+ WARN llm_call_complete phase=initial /);
    expect(line).not.toMatch(/tokens=|cost_usd=|step_id=/);
    expect(line!.endsWith(' error_type=rate_limit')).toBe(true);
  });

  it('writes tool_call_complete lines that grep finds by success=false', () => {
    const { sink, lines } = capture();
    sink.write([toolCall(), toolCall({ tool: 'http_request', success: false, error: 'HTTP 503' })]);
    expect(lines()).toEqual([
      '2025-12-15T04:08:09.456Z INFO tool_call_complete tool=ssh_exec duration_ms=1111 success=true run_id=run-1 flow_id=backup step_id=plan',
      '2025-12-15T04:08:09.456Z WARN tool_call_complete tool=http_request duration_ms=1111 success=false run_id=run-1 flow_id=backup step_id=plan error="HTTP 503"',
    ]);
    expect(lines().filter((l) => l.includes('tool_call_complete') && l.includes('success=false'))).toHaveLength(1);
  });

  it('quotes error values with spaces, quotes and newlines and keeps them on one line', () => {
    const { sink, lines } = capture();
    sink.write([toolCall({ success: false, error: 'exit 1: "denied"\nsee log' })]);
    expect(lines()).toHaveLength(1);
    expect(lines()[0]!.endsWith(' error="exit 1: \\"denied\\"\\nsee log"')).toBe(true);
  });

  it('writes a WARN retry line', () => {
    const { sink, lines } = capture();
    sink.write([retry()]);
    expect(lines()).toEqual([
      '2025-12-15T04:08:08.300Z WARN retry reason=rate_limit attempt=1 backoff_seconds=0.5 run_id=run-1 flow_id=backup step_id=plan',
    ]);
  });

  it('ends a run with one pure JSON line of type flowmeter.run_event.v1', () => {
    const { sink, lines } = capture();
    sink.write([runStarted(), llmCall(), runFinished('run-1', { retries: 2 })]);
    const runLines = lines().filter((l) => l.includes(RUN_EVENT_LOG_TYPE));
    expect(runLines).toHaveLength(1);
    expect(runLines[0]!.startsWith('{"type":"flowmeter.run_event.v1",')).toBe(true);
    expect(JSON.parse(runLines[0]!)).toMatchObject({ type: RUN_EVENT_LOG_TYPE, run_id: 'run-1', retries: 2, cost_usd: 0.0023 });
  });

  it('writes each batch with one write call and nothing for a batch without lines', () => {
    const { sink, chunks } = capture();
    sink.write([llmCall(), toolCall(), retry(), runFinished()]);
    sink.write([runStarted()]);
    expect(chunks).toHaveLength(1);
    expect(chunks[0]!.split('\n')).toHaveLength(5);
  });

  it('uses the clock only for an event without a timestamp', () => {
    const { sink, lines } = capture({ now: () => new Date('2030-01-01T00:00:00.000Z') });
    sink.write([llmCall({ end_ts: '' }), toolCall()]);
    expect(lines()[0]!.startsWith('2030-01-01T00:00:00.000Z INFO llm_call_complete ')).toBe(true);
    expect(lines()[1]!.startsWith('2025-12-15T04:08:09.456Z ')).toBe(true);
  });
});

describe('LogSink json', () => {
  const events: FlowEvent[] = [
    llmCall({ cost_usd: null }),
    toolCall({ success: false, error: 'exit 1: "denied"\n' }),
    retry(),
    runFinished(),
  ];

  it('writes pino records with the same fields as logfmt plus event', () => {
    const { sink, lines } = capture({ format: 'json' });
    sink.write(events);
    const records = lines().map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.map((r) => r.msg)).toEqual(['llm_call_complete', 'tool_call_complete', 'retry', 'run.summary']);
    const [llm, tool, again] = records;
    expect(llm).toMatchObject({
      level: 30, time: '2025-12-15T04:08:08.234Z', event: 'llm_call_complete', phase: 'initial', model: 'gpt-5-mini',
      duration_ms: 111, run_id: 'run-1', prompt_tokens: 1234, completion_tokens: 89, total_tokens: 1323,
      provider: 'openai', flow_id: 'backup', step_id: 'plan', ttft_ms: 42,
    });
    expect(llm).not.toHaveProperty('cost_usd');
    expect(llm).not.toHaveProperty('pid');
    expect(tool).toMatchObject({ level: 40, event: 'tool_call_complete', success: false, error: 'exit 1: "denied"\n' });
    expect(again).toMatchObject({ level: 40, event: 'retry', reason: 'rate_limit', attempt: 1, backoff_seconds: 0.5 });
  });

  it('logs the run end as run.summary with the run event record', () => {
    const { sink, lines } = capture({ format: 'json' });
    sink.write(events);
    const summary = JSON.parse(lines().at(-1)!) as Record<string, unknown>;
    expect(summary).toMatchObject({ msg: 'run.summary', type: RUN_EVENT_LOG_TYPE, run_id: 'run-1', outcome: 'success' });
    expect(summary.time).toBe('2025-12-15T04:08:09.700Z');
  });

  it('names the same fields as the logfmt line', () => {
    const logfmt = capture();
    const json = capture({ format: 'json' });
    logfmt.sink.write([llmCall(), toolCall({ success: false, error: 'x' })]);
    json.sink.write([llmCall(), toolCall({ success: false, error: 'x' })]);
    json.lines().forEach((line, i) => {
      const record = JSON.parse(line) as Record<string, unknown>;
      const keys = [...logfmt.lines()[i]!.matchAll(/ (\w+)=/g)].map((m) => m[1]);
      expect(Object.keys(record).filter((k) => !['level', 'time', 'event', 'msg'].includes(k))).toEqual(keys);
    });
  });

  it('writes one chunk per batch', () => {
    const { sink, chunks } = capture({ format: 'json' });
    sink.write(events);
    expect(chunks).toHaveLength(1);
  });
});

describe('LogSink destinations and lifecycle', () => {
  it('writes to stderr by default and to stdout when asked', () => {
    const script = [
      "import { LogSink } from './src/sinks/index.js';",
      "import { toolCall } from './test/sinks/fixtures.js';",
      "new LogSink().write([toolCall({ tool: 'to_stderr' })]);",
      "new LogSink({ destination: 'stdout', format: 'json' }).write([toolCall({ tool: 'to_stdout' })]);",
    ].join('\n');
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '--eval', script], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(result.stderr).toMatch(/^\S+ INFO tool_call_complete tool=to_stderr /);
    expect(JSON.parse(result.stdout)).toMatchObject({ msg: 'tool_call_complete', tool: 'to_stdout' });
  });

  it('appends to a file, creating its folder', () => {
    const dir = mkdtempSync(join(tmpdir(), 'flowmeter-log-'));
    dirs.push(dir);
    const path = join(dir, 'logs', 'nested', 'flowmeter.log');
    const first = new LogSink({ destination: { path } });
    first.write([llmCall()]);
    first.close();
    const second = new LogSink({ destination: { path }, format: 'json' });
    second.write([toolCall()]);
    second.close();
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain(' INFO llm_call_complete ');
    expect(JSON.parse(lines[1]!)).toMatchObject({ msg: 'tool_call_complete' });
  });

  it('reports an unwritable file through onError and does not throw', () => {
    const dir = mkdtempSync(join(tmpdir(), 'flowmeter-log-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'blocker'), '');
    const errors: unknown[] = [];
    const sink = new LogSink({ destination: { path: join(dir, 'blocker', 'app.log') }, onError: (err) => errors.push(err) });
    expect(() => sink.write([llmCall()])).not.toThrow();
    expect(errors).toHaveLength(1);
    sink.close();
  });

  it('reports a throwing writable through onError', () => {
    const errors: unknown[] = [];
    const sink = new LogSink({
      destination: {
        write: () => {
          throw new Error('EPIPE');
        },
      },
      onError: (err) => errors.push(err),
    });
    expect(() => sink.write([toolCall()])).not.toThrow();
    expect(errors).toHaveLength(1);
  });

  it('closes idempotently and reports writes after close', () => {
    const errors: unknown[] = [];
    const { sink, chunks } = capture({ onError: (err) => errors.push(err) });
    sink.close();
    sink.close();
    sink.write([llmCall()]);
    expect(chunks).toEqual([]);
    expect(errors).toHaveLength(1);
  });

  it('rejects an unknown format or destination at construction', () => {
    expect(() => new LogSink({ format: 'xml' as 'json' })).toThrow(/format/);
    expect(() => new LogSink({ destination: { path: '' } })).toThrow(/destination/);
  });
});
