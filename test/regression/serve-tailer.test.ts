import { appendFileSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, rmdirSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { serve } from '../../src/cli/serve.js';
import { report } from '../../src/cli/report.js';
import { createMeter } from '../../src/meter/index.js';
import type { FlowEvent } from '../../src/model/index.js';
import type { MetricsServer, StaleRun } from '../../src/server/index.js';
import { RunsTailer } from '../../src/server/index.js';
import { llmCall, runFinished, runStarted, toolCall } from '../sinks/fixtures.js';
import { capture, sampleValue } from '../server/helpers.js';
import { PRICED_MODEL, PRICES, harness } from '../meter/fixtures.js';

/** Issue 13, items 10, 11 and 13: what `flowmeter serve` read twice, trusted, or held forever. */
const line = (event: unknown): string => JSON.stringify(event) + '\n';

describe('serve tailer (issue 13.10, 13.11, 13.13)', () => {
  let dir: string;
  let runsDir: string;
  let seen: FlowEvent[];
  let stale: StaleRun[];
  let tailer: RunsTailer;

  function eventsFile(run: string): string {
    mkdirSync(join(runsDir, run), { recursive: true });
    return join(runsDir, run, 'events.jsonl');
  }

  function makeTailer(staleAfterMs?: number): RunsTailer {
    tailer = new RunsTailer({ runsDir, pollMs: 60_000, onEvent: (e) => seen.push(e), onStale: (s) => stale.push(s), ...(staleAfterMs !== undefined ? { staleAfterMs } : {}) });
    return tailer;
  }

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'flowmeter-serve-tailer-'));
    runsDir = join(dir, 'runs');
    seen = [];
    stale = [];
  });
  afterEach(async () => {
    await tailer?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('does not count again a file rotated with cp+mv (a new inode, the same lines)', async () => {
    const file = eventsFile('r1');
    writeFileSync(file, line(runStarted('r1')) + line(llmCall({ run_id: 'r1' })));
    await makeTailer().start();
    copyFileSync(file, `${file}.tmp`);
    renameSync(`${file}.tmp`, file);
    appendFileSync(file, line(runFinished('r1')));
    await tailer.poll();
    expect(seen.map((e) => e.kind)).toEqual(['run_started', 'llm_call', 'run_finished']);
  });

  it('does not count again a runs folder moved away and back', async () => {
    writeFileSync(eventsFile('r1'), line(runStarted('r1')) + line(runFinished('r1')));
    writeFileSync(eventsFile('r2'), line(runStarted('r2')));
    await makeTailer().start();
    renameSync(runsDir, `${runsDir}.away`);
    mkdirSync(runsDir);
    await tailer.poll();
    rmdirSync(runsDir);
    renameSync(`${runsDir}.away`, runsDir);
    await tailer.poll();
    expect(seen).toHaveLength(3);
  });

  it('skips and counts lines that are not events by the schema', async () => {
    const { model: _model, ...withoutModel } = llmCall({ run_id: 'r1' });
    const lines = [
      line(runStarted('r1')),
      line(withoutModel),
      line(llmCall({ run_id: 'r1', model: { name: 'x' } as unknown as string })),
      line(llmCall({ run_id: 'r1', input_tokens: 1e300 })),
      line(llmCall({ run_id: 'r1', duration_ms: -5 })),
      line(llmCall({ run_id: 'r1', cost_usd: null, cost_source: 'price_table' })),
      line(toolCall({ run_id: 'r1', tool: 'x'.repeat(10_000) })),
      line(llmCall({ run_id: 'r1' })),
    ];
    writeFileSync(eventsFile('r1'), lines.join(''));
    await makeTailer().start();
    expect(seen.map((e) => e.kind)).toEqual(['run_started', 'llm_call']);
    expect(tailer.stats().malformed).toBe(6);
  });

  it('gives up on the open steps of a run that stopped writing, and not on a finished one', async () => {
    const dead = eventsFile('dead');
    const step = { kind: 'step_started', run_id: 'dead', flow_id: 'backup', step_id: 's', agent: 'commis', model: null, ts: '2025-12-15T04:08:08.000Z' };
    writeFileSync(dead, line(runStarted('dead')) + line(step) + line({ ...step, step_id: 't' }));
    const old = new Date(Date.now() - 3_600_000);
    utimesSync(dead, old, old);
    const done = eventsFile('done');
    writeFileSync(done, line(runStarted('done')) + line({ ...step, run_id: 'done' }) + line(runFinished('done')));
    utimesSync(done, old, old);
    const live = eventsFile('live');
    writeFileSync(live, line(runStarted('live')) + line({ ...step, run_id: 'live' }));
    await makeTailer(60_000).start();
    expect(stale).toEqual([{ runId: 'dead', flowId: 'backup', steps: 2 }]);
    await tailer.poll();
    expect(stale).toHaveLength(1);
  });

  it('brings flowmeter_inflight_steps back to 0 for runs killed inside steps', async () => {
    const file = eventsFile('killed');
    const step = { kind: 'step_started', run_id: 'killed', flow_id: 'backup', step_id: 's', agent: 'commis', model: null, ts: '2025-12-15T04:08:08.000Z' };
    writeFileSync(file, line(runStarted('killed')) + line(step));
    const old = new Date(Date.now() - 3_600_000);
    utimesSync(file, old, old);
    const io = capture();
    const abort = new AbortController();
    let listening!: (server: MetricsServer) => void;
    const ready = new Promise<MetricsServer>((resolve) => (listening = resolve));
    const exit = serve({ port: 0, addr: '127.0.0.1', runsDir }, io, { signal: abort.signal, onListening: listening, env: {} });
    const server = await ready;
    try {
      const text = await (await fetch(`${server.url}/metrics`)).text();
      expect(sampleValue(text, 'flowmeter_runs_started_total', { flow_id: 'backup', agent: 'commis' })).toBe(1);
      expect(sampleValue(text, 'flowmeter_inflight_steps', { flow_id: 'backup' })).toBe(0);
    } finally {
      abort.abort();
      await exit;
    }
  });
});

describe('smaller wrong numbers (issue 13.13)', () => {
  it('writes no cost_source when the price table estimate is past the bound', async () => {
    const { meter, sink } = harness({ prices: PRICES });
    await meter.runSettled({}, () => meter.llmCall({ model: PRICED_MODEL, usage: () => ({ inputTokens: 1e12, outputTokens: 1 }) }, () => 'x'));
    await meter.flush();
    expect(sink.ofKind('llm_call')[0]).toMatchObject({ input_tokens: 1e12, cost_usd: null, cost_source: null });
  });

  it('cuts a 10 MB model name once, at the meter, so its lines stay small', async () => {
    const { meter, sink } = harness();
    const huge = 'm'.repeat(10 * 1024 * 1024);
    const t0 = performance.now();
    await meter.runSettled({}, async () => {
      for (let i = 0; i < 20; i++) await meter.llmCall({ model: huge }, () => ({ usage: { prompt_tokens: 1, completion_tokens: 1 } }));
    });
    await meter.flush();
    expect(performance.now() - t0).toBeLessThan(5_000);
    expect(sink.ofKind('llm_call')[0]?.model).toHaveLength(256);
  });

  it('names a label "unknown", not "undefined", when a JavaScript caller leaves the model out', async () => {
    const { meter, sink } = harness();
    await meter.runSettled({}, () => meter.llmCall({} as { model: string }, () => 'x'));
    await meter.flush();
    expect(sink.ofKind('llm_call')[0]?.model).toBe('unknown');
    expect(meter.metrics()).not.toContain('undefined');
  });

  it('reports a corrupt run.json as corrupt, not as a run without an end', async () => {
    const runsDir = mkdtempSync(join(tmpdir(), 'flowmeter-corrupt-'));
    try {
      const meter = createMeter({ runsDir, log: false, prometheus: false, env: {} });
      const good = await meter.runSettled({ runId: 'good' }, () => 'ok');
      await meter.close();
      mkdirSync(join(runsDir, 'broken'));
      writeFileSync(join(runsDir, 'broken', 'run.json'), '{"run_id": "broken", "outcome": ');
      mkdirSync(join(runsDir, 'running'));
      const io = capture();
      expect(await report({ runsDir, runsDirDefault: runsDir, json: false }, io)).toBe(0);
      expect(good.ok).toBe(true);
      expect(io.stdout.join('\n')).toContain('1 folder(s) without a finished run were skipped');
      expect(io.stderr).toHaveLength(1);
      expect(io.stderr[0]).toMatch(/broken: run\.json unreadable: .*; skipped$/);
      expect(JSON.parse(readFileSync(join(runsDir, 'good', 'run.json'), 'utf8'))).toMatchObject({ outcome: 'success' });
    } finally {
      rmSync(runsDir, { recursive: true, force: true });
    }
  });
});
