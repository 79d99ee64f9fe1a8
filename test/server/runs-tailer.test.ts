import { appendFileSync, mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FlowEvent } from '../../src/model/index.js';
import { RunsTailer } from '../../src/server/index.js';
import { llmCall, runFinished, runStarted, toolCall } from '../sinks/fixtures.js';
import { eventually } from './helpers.js';

function line(event: FlowEvent): string {
  return JSON.stringify(event) + '\n';
}

function runIdOf(e: FlowEvent): string {
  return e.kind === 'run_started' || e.kind === 'run_finished' ? e.run.run_id : e.run_id;
}

describe('RunsTailer', () => {
  let dir: string;
  let runsDir: string;
  let seen: FlowEvent[];
  let errors: unknown[];
  let tailer: RunsTailer;

  function eventsFile(run: string): string {
    mkdirSync(join(runsDir, run), { recursive: true });
    return join(runsDir, run, 'events.jsonl');
  }

  function makeTailer(pollMs = 60_000): RunsTailer {
    tailer = new RunsTailer({ runsDir, pollMs, onEvent: (e) => seen.push(e), onError: (e) => errors.push(e) });
    return tailer;
  }

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'flowmeter-tailer-'));
    runsDir = join(dir, 'runs');
    seen = [];
    errors = [];
  });
  afterEach(async () => {
    await tailer?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('picks up the runs that exist when it starts, each run\'s events in file order', async () => {
    writeFileSync(eventsFile('b-run'), line(runStarted('b-run')) + line(runFinished('b-run')));
    writeFileSync(eventsFile('a-run'), line(runStarted('a-run')) + line(llmCall({ run_id: 'a-run' })) + line(runFinished('a-run')));
    await makeTailer().start();
    // Runs are read in parallel, so only the order within a run is fixed.
    const of = (run: string): string[] => seen.filter((e) => runIdOf(e) === run).map((e) => e.kind);
    expect(of('a-run')).toEqual(['run_started', 'llm_call', 'run_finished']);
    expect(of('b-run')).toEqual(['run_started', 'run_finished']);
    expect(tailer.stats()).toEqual({ files: 2, events: 5, malformed: 0 });
  });

  it('picks up a run that appears later', async () => {
    writeFileSync(eventsFile('r1'), line(runStarted('r1')));
    await makeTailer().start();
    writeFileSync(eventsFile('r2'), line(runStarted('r2')));
    await tailer.poll();
    expect(seen.map(runIdOf)).toEqual(['r1', 'r2']);
  });

  it('reads lines appended later once, without reading the old ones again', async () => {
    const file = eventsFile('r1');
    writeFileSync(file, line(runStarted('r1')));
    await makeTailer().start();
    appendFileSync(file, line(toolCall({ run_id: 'r1' })) + line(runFinished('r1')));
    await tailer.poll();
    await tailer.poll();
    expect(seen.map((e) => e.kind)).toEqual(['run_started', 'tool_call', 'run_finished']);
  });

  it('keeps a partial last line until the writer completes it', async () => {
    const file = eventsFile('r1');
    const whole = line(llmCall({ run_id: 'r1', model: 'gpt-4o' }));
    writeFileSync(file, line(runStarted('r1')) + whole.slice(0, 40));
    await makeTailer().start();
    expect(seen.map((e) => e.kind)).toEqual(['run_started']);
    expect(tailer.stats().malformed).toBe(0);
    appendFileSync(file, whole.slice(40));
    await tailer.poll();
    expect(seen.map((e) => e.kind)).toEqual(['run_started', 'llm_call']);
    expect(seen[1]).toEqual(JSON.parse(whole));
    expect(tailer.stats().malformed).toBe(0);
  });

  it('skips and counts malformed complete lines and goes on', async () => {
    const file = eventsFile('r1');
    writeFileSync(file, ['{"kind":"run_started"', 'not json', '{"kind":"teleport","run_id":"r1"}', '[1,2]', '{"kind":"llm_call"}', ''].join('\n') + '\n' + line(runStarted('r1')));
    await makeTailer().start();
    expect(seen.map((e) => e.kind)).toEqual(['run_started']);
    expect(tailer.stats()).toEqual({ files: 1, events: 1, malformed: 5 });
    expect(errors).toEqual([]);
  });

  it('waits for a missing runs folder to appear, without reporting an error', async () => {
    await makeTailer().start();
    expect(tailer.stats().files).toBe(0);
    writeFileSync(eventsFile('r1'), line(runStarted('r1')));
    await tailer.poll();
    expect(seen.map(runIdOf)).toEqual(['r1']);
    expect(errors).toEqual([]);
  });

  it('reads a file much larger than its read chunk, with lines across chunk edges', async () => {
    const file = eventsFile('big');
    const events = Array.from({ length: 3000 }, (_, i) => llmCall({ run_id: 'big', phase: `p${i}`, duration_ms: i }));
    writeFileSync(file, events.map(line).join(''));
    await makeTailer().start();
    expect(seen).toHaveLength(3000);
    expect(seen.map((e) => (e.kind === 'llm_call' ? e.duration_ms : -1))).toEqual(events.map((e) => e.duration_ms));
  });

  it('keeps what it read of a run whose file shrank, and reads on from its new end', async () => {
    const file = eventsFile('r1');
    writeFileSync(file, line(runStarted('r1')) + line(toolCall({ run_id: 'r1' })));
    await makeTailer().start();
    truncateSync(file, 0);
    writeFileSync(file, line(runStarted('r1')));
    await tailer.poll();
    appendFileSync(file, line(runFinished('r1')));
    await tailer.poll();
    // Counted once: the rewritten first line is not read again.
    expect(seen.map((e) => e.kind)).toEqual(['run_started', 'tool_call', 'run_finished']);
    expect(String(errors[0])).toContain('shrank');
  });

  it('finds lines added to a finished run\'s file at the next scan', async () => {
    // Two run ids can share a folder (runFolderName maps `a/b` and `a_b` to one), so a
    // finished run's file may still grow.
    const file = eventsFile('r1');
    writeFileSync(file, line(runStarted('r1')) + line(runFinished('r1')));
    await makeTailer().start();
    appendFileSync(file, line(runStarted('r1')));
    await tailer.poll();
    expect(seen).toHaveLength(3);
  });

  it('keeps polling on its own every pollMs once started', async () => {
    await makeTailer(20).start();
    writeFileSync(eventsFile('r1'), line(runStarted('r1')));
    await eventually(() => seen.length === 1);
  });

  it('stops reading after close', async () => {
    await makeTailer(20).start();
    await tailer.close();
    await tailer.close();
    writeFileSync(eventsFile('r1'), line(runStarted('r1')));
    await new Promise((r) => setTimeout(r, 100));
    await tailer.poll();
    expect(seen).toEqual([]);
  });

  it('reports a failing onEvent and still delivers the other events', async () => {
    writeFileSync(eventsFile('r1'), line(runStarted('r1')) + line(runFinished('r1')));
    tailer = new RunsTailer({
      runsDir,
      onEvent: (e) => {
        if (e.kind === 'run_started') throw new Error('view broke');
        seen.push(e);
      },
      onError: (e) => errors.push(e),
    });
    await tailer.start();
    expect(seen.map((e) => e.kind)).toEqual(['run_finished']);
    expect(errors).toHaveLength(1);
  });

  it('reports a runs path that is a file once, and does not throw', async () => {
    writeFileSync(runsDir, 'not a folder');
    await makeTailer().start();
    await tailer.poll();
    await tailer.poll();
    expect(errors).toHaveLength(1);
    expect((errors[0] as NodeJS.ErrnoException).code).toBe('ENOTDIR');
  });

  it('rejects a pollMs that is not a positive integer', () => {
    expect(() => new RunsTailer({ runsDir, pollMs: 0, onEvent: () => undefined })).toThrow(/pollMs/);
  });
});
