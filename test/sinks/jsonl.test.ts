import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JsonlSink, metricsLine, runFolderName } from '../../src/sinks/index.js';
import { llmCall, retry, runFinished, runStarted, toolCall } from './fixtures.js';

let runsDir: string;
let sinks: JsonlSink[];

beforeEach(() => {
  runsDir = join(mkdtempSync(join(tmpdir(), 'flowmeter-jsonl-')), 'runs');
  sinks = [];
});

afterEach(() => {
  for (const sink of sinks) sink.close();
  rmSync(join(runsDir, '..'), { recursive: true, force: true });
});

function sink(onError?: (err: unknown) => void): JsonlSink {
  const s = new JsonlSink(onError === undefined ? { runsDir } : { runsDir, onError });
  sinks.push(s);
  return s;
}

function lines(runId = 'run-1'): Record<string, unknown>[] {
  const text = readFileSync(join(runsDir, runId, 'metrics.jsonl'), 'utf8');
  expect(text === '' || text.endsWith('\n')).toBe(true);
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('JsonlSink line shapes', () => {
  it('writes an llm_call with zerg\'s keys first, in zerg\'s order, then flowmeter\'s extras', () => {
    const s = sink();
    s.write([runStarted(), llmCall()]);
    const [line] = lines();
    expect(Object.keys(line!)).toEqual([
      'event', 'phase', 'model', 'start_ts', 'end_ts', 'duration_ms', 'prompt_tokens', 'completion_tokens', 'total_tokens',
      'provider', 'run_id', 'step_id', 'ttft_ms', 'cached_input_tokens', 'cost_usd', 'cost_source', 'streaming', 'cache_hit',
    ]);
    expect(line).toMatchObject({
      event: 'llm_call', phase: 'initial', model: 'gpt-5-mini', duration_ms: 111,
      prompt_tokens: 1234, completion_tokens: 89, total_tokens: 1323, provider: 'openai', run_id: 'run-1',
      cost_usd: 0.0023, cost_source: 'price_table', streaming: true, cache_hit: false,
    });
  });

  it('matches the seed\'s example line byte for byte up to the extras', () => {
    const line = metricsLine(
      llmCall({ start_ts: '2025-12-15T04:08:08.123456Z', end_ts: '2025-12-15T04:08:08.234567Z' }),
    );
    expect(line.startsWith(
      '{"event":"llm_call","phase":"initial","model":"gpt-5-mini","start_ts":"2025-12-15T04:08:08.123456Z",' +
        '"end_ts":"2025-12-15T04:08:08.234567Z","duration_ms":111,"prompt_tokens":1234,"completion_tokens":89,' +
        '"total_tokens":1323,',
    )).toBe(true);
  });

  it('omits fields that were not measured instead of writing 0', () => {
    const line = JSON.parse(
      metricsLine(
        llmCall({
          step_id: null, ttft_ms: null, input_tokens: null, output_tokens: null, total_tokens: null,
          cached_input_tokens: null, cost_usd: null, cost_source: null, streaming: false,
        }),
      ),
    ) as Record<string, unknown>;
    expect(Object.keys(line)).toEqual([
      'event', 'phase', 'model', 'start_ts', 'end_ts', 'duration_ms', 'provider', 'run_id', 'streaming', 'cache_hit',
    ]);
    expect(line.streaming).toBe(false);
  });

  it('adds error_type last for a failed call', () => {
    const line = JSON.parse(metricsLine(llmCall({ error_type: 'rate_limit' }))) as Record<string, unknown>;
    expect(Object.keys(line).at(-1)).toBe('error_type');
    expect(line.error_type).toBe('rate_limit');
  });

  it('writes a successful tool_call in zerg\'s shape without an error key', () => {
    const line = JSON.parse(metricsLine(toolCall())) as Record<string, unknown>;
    expect(Object.keys(line)).toEqual(['event', 'tool', 'start_ts', 'end_ts', 'duration_ms', 'success', 'run_id', 'step_id']);
    expect(line).toMatchObject({ event: 'tool_call', tool: 'ssh_exec', duration_ms: 1111, success: true });
  });

  it('writes a failed tool_call with its error, escaped', () => {
    const line = JSON.parse(metricsLine(toolCall({ success: false, error: 'exit 1: "denied"\n', step_id: null }))) as Record<
      string,
      unknown
    >;
    expect(Object.keys(line)).toEqual(['event', 'tool', 'start_ts', 'end_ts', 'duration_ms', 'success', 'error', 'run_id']);
    expect(line.error).toBe('exit 1: "denied"\n');
  });
});

describe('JsonlSink files', () => {
  it('creates metrics.jsonl at run start, so a run with no calls has the file', () => {
    const s = sink();
    s.write([runStarted()]);
    expect(readFileSync(join(runsDir, 'run-1', 'metrics.jsonl'), 'utf8')).toBe('');
    s.write([runFinished()]);
    expect(lines()).toEqual([]);
    expect(existsSync(join(runsDir, 'run-1', 'run.json'))).toBe(true);
  });

  it('writes calls in order and ignores steps and retries', () => {
    const s = sink();
    s.write([runStarted(), llmCall({ phase: 'initial' }), retry(), toolCall()]);
    s.write([llmCall({ phase: 'summary' })]);
    expect(lines().map((l) => `${String(l.event)}:${String(l.phase ?? l.tool)}`)).toEqual([
      'llm_call:initial', 'tool_call:ssh_exec', 'llm_call:summary',
    ]);
  });

  it('writes run.json with the RunEvent and the summary, after the last line of the same batch', () => {
    const s = sink();
    s.write([runStarted(), llmCall(), runFinished('run-1', { retries: 1 })]);
    expect(lines()).toHaveLength(1);
    const run = JSON.parse(readFileSync(join(runsDir, 'run-1', 'run.json'), 'utf8')) as Record<string, unknown>;
    expect(run).toMatchObject({ run_id: 'run-1', outcome: 'success', retries: 1, cost_usd: 0.0023 });
    expect(run.summary).toBe('Execution time: 98ms | outcome: success');
    expect(readdirSync(join(runsDir, 'run-1')).sort()).toEqual(['metrics.jsonl', 'run.json']);
  });

  it('sends two runs interleaved in one batch to their own files', () => {
    const s = sink();
    s.write([
      runStarted('a'), runStarted('b'),
      llmCall({ run_id: 'a', phase: 'a1' }), llmCall({ run_id: 'b', phase: 'b1' }),
      toolCall({ run_id: 'a', tool: 'a2' }), llmCall({ run_id: 'b', phase: 'b2' }),
      runFinished('a'),
      llmCall({ run_id: 'b', phase: 'b3' }),
    ]);
    expect(lines('a').map((l) => l.phase ?? l.tool)).toEqual(['a1', 'a2']);
    expect(lines('b').map((l) => l.phase)).toEqual(['b1', 'b2', 'b3']);
    expect(existsSync(join(runsDir, 'a', 'run.json'))).toBe(true);
    expect(existsSync(join(runsDir, 'b', 'run.json'))).toBe(false);
  });

  it('cuts off a torn last line left by a crash before appending to a reopened run', () => {
    mkdirSync(join(runsDir, 'run-1'), { recursive: true });
    writeFileSync(join(runsDir, 'run-1', 'metrics.jsonl'), metricsLine(toolCall()) + '\n{"event":"llm_call","pha');
    const s = sink();
    s.write([runStarted(), llmCall()]);
    expect(lines().map((l) => l.event)).toEqual(['tool_call', 'llm_call']);
  });

  it('drops a file that is nothing but a fragment', () => {
    mkdirSync(join(runsDir, 'run-1'), { recursive: true });
    writeFileSync(join(runsDir, 'run-1', 'metrics.jsonl'), '{"event":"tool_c');
    sink().write([runStarted()]);
    expect(readFileSync(join(runsDir, 'run-1', 'metrics.jsonl'), 'utf8')).toBe('');
  });

  it('keeps a reopened file that ends on a line boundary as it is', () => {
    mkdirSync(join(runsDir, 'run-1'), { recursive: true });
    const before = metricsLine(toolCall()) + '\n' + 'x'.repeat(10_000) + '\n';
    writeFileSync(join(runsDir, 'run-1', 'metrics.jsonl'), before);
    sink().write([runStarted()]);
    expect(readFileSync(join(runsDir, 'run-1', 'metrics.jsonl'), 'utf8')).toBe(before);
  });

  it('opens a run on its first call when run_started was missed', () => {
    const s = sink();
    s.write([toolCall({ run_id: 'late' })]);
    expect(lines('late')).toHaveLength(1);
  });

  it('keeps every line parseable after many batches of awkward values', () => {
    const s = sink();
    s.write([runStarted()]);
    let written = 0;
    for (let batch = 0; batch < 300; batch++) {
      const events = [];
      for (let i = 0; i <= batch % 9; i++) {
        events.push(
          i % 3 === 0
            ? toolCall({ success: false, error: `line\nbreak "${'é'.repeat(batch)}" \u0000 ${batch}` })
            : llmCall({ phase: `p${batch}-${i}`, cost_usd: i % 2 === 0 ? null : 1e-9 * batch }),
        );
      }
      s.write(events);
      written += events.length;
    }
    expect(lines()).toHaveLength(written);
  });
});

describe('JsonlSink failures', () => {
  it('reports an unwritable runsDir through onError and does not throw', () => {
    // A regular file where a folder should be: fails even for root, unlike chmod.
    const blocker = join(runsDir, '..', 'blocker');
    writeFileSync(blocker, '');
    const errors: unknown[] = [];
    const s = new JsonlSink({ runsDir: join(blocker, 'runs'), onError: (err) => errors.push(err) });
    sinks.push(s);
    expect(() => s.write([runStarted(), llmCall(), runFinished()])).not.toThrow();
    expect(errors.length).toBeGreaterThan(0);
    expect((errors[0] as NodeJS.ErrnoException).code).toMatch(/ENOTDIR|EEXIST/);
  });

  it('goes on with other runs when one run cannot be written', () => {
    const errors: unknown[] = [];
    const s = sink((err) => errors.push(err));
    // The folder name `bad` is taken by a file, so only that run fails.
    s.write([runStarted('good')]);
    writeFileSync(join(runsDir, 'bad'), 'not a folder');
    s.write([runStarted('bad'), llmCall({ run_id: 'bad' }), llmCall({ run_id: 'good' })]);
    expect(errors.length).toBeGreaterThan(0);
    expect(lines('good')).toHaveLength(1);
  });

  it('does not let a throwing onError escape write', () => {
    const blocker = join(runsDir, '..', 'blocker2');
    writeFileSync(blocker, '');
    const s = new JsonlSink({
      runsDir: blocker,
      onError: () => {
        throw new Error('handler broke');
      },
    });
    expect(() => s.write([runStarted()])).not.toThrow();
  });

  it('keeps a run_id with ../ inside runsDir', () => {
    const s = sink();
    s.write([runStarted('../../etc'), llmCall({ run_id: '../../etc' }), runFinished('../../etc')]);
    const folders = readdirSync(runsDir);
    expect(folders).toEqual([runFolderName('../../etc')]);
    const rel = relative(runsDir, join(runsDir, folders[0]!));
    expect(rel.startsWith('..') || isAbsolute(rel)).toBe(false);
    expect(readdirSync(join(runsDir, '..')).sort()).toEqual(['runs']);
  });

  it.each([
    ['../../etc', '______etc'],
    ['..', '__'],
    ['.hidden', '_hidden'],
    ['v1.2', 'v1.2'],
    ['.', '_'],
    ['', '_'],
    ['a/b\\c', 'a_b_c'],
    ['2025-12-15T04:08:08_calc', '2025-12-15T04_08_08_calc'],
  ])('maps run_id %j to the folder %j', (runId, folder) => {
    expect(runFolderName(runId)).toBe(folder);
  });

  it('closes idempotently and reports writes after close', () => {
    const errors: unknown[] = [];
    const s = sink((err) => errors.push(err));
    s.write([runStarted()]);
    s.close();
    s.close();
    s.write([llmCall()]);
    expect(errors).toHaveLength(1);
    expect(lines()).toEqual([]);
  });

  it('refuses to be built without a runsDir', () => {
    expect(() => new JsonlSink({ runsDir: '' })).toThrow(/runsDir/);
  });
});
