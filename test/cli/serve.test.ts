import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { serve } from '../../src/cli/serve.js';
import type { ServeCommandOptions, ServeControl } from '../../src/cli/serve.js';
import { createMeter } from '../../src/index.js';
import type { MetricsServer } from '../../src/server/index.js';
import { blockPort, capture, eventually, freePort, sampleValue } from '../server/helpers.js';

async function makeRuns(runsDir: string, runs: readonly { flow: string; fail?: boolean }[]): Promise<void> {
  const meter = createMeter({ runsDir, log: false });
  for (const [i, r] of runs.entries()) {
    await meter.runSettled({ flowId: r.flow, agent: 'CODER_AI' }, async (run) => {
      await run.step(`step-${i}`, () => run.llmCall({ model: 'gpt-4o', provider: 'openai' }, () => ({ usage: { prompt_tokens: 100, completion_tokens: 10 } })));
      if (r.fail === true) throw new Error('tool broke');
    });
  }
  await meter.close();
}

/** Runs `serve` in-process until the returned `stop` is called. */
async function startServe(options: ServeCommandOptions, control: Omit<ServeControl, 'signal' | 'onListening'> = {}) {
  const io = capture();
  const abort = new AbortController();
  let listening!: (server: MetricsServer) => void;
  const ready = new Promise<MetricsServer>((resolve) => (listening = resolve));
  const exit = serve(options, io, { ...control, signal: abort.signal, onListening: listening });
  const server = await Promise.race([ready, exit.then((code) => Promise.reject(new Error(`serve exited ${code}: ${io.stderr.join(' | ')}`)))]);
  return { io, server, exit, stop: async () => (abort.abort(), exit) };
}

async function scrape(server: MetricsServer, headers: Record<string, string> = {}): Promise<string> {
  const res = await fetch(`${server.url}/metrics`, { headers });
  expect(res.status).toBe(200);
  return res.text();
}

describe('flowmeter serve', () => {
  let dir: string;
  let runsDir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'flowmeter-serve-'));
    runsDir = join(dir, 'runs');
    await makeRuns(runsDir, [{ flow: 'alpha' }, { flow: 'alpha' }, { flow: 'beta', fail: true }]);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('serves the runs of a runs folder written by a real meter, and exits 0 when stopped', async () => {
    const s = await startServe({ port: 0, runsDir, pollMs: 50 });
    const text = await scrape(s.server);
    expect(sampleValue(text, 'flowmeter_runs_finished_total', { flow_id: 'alpha', agent: 'CODER_AI', outcome: 'success' })).toBe(2);
    expect(sampleValue(text, 'flowmeter_runs_finished_total', { flow_id: 'beta', outcome: 'success' })).toBeUndefined();
    expect(sampleValue(text, 'flowmeter_runs_started_total', { flow_id: 'beta' })).toBe(1);
    expect(sampleValue(text, 'flowmeter_tokens_total', { direction: 'input', model: 'gpt-4o' })).toBe(300);
    expect(s.io.stdout).toEqual([`flowmeter: serving /metrics, /api and /ws on ${s.server.url} (profiles: default; runs: ${runsDir}; store: ${join(dirname(runsDir), 'flowmeter.db')})`]);
    expect(await s.stop()).toBe(0);
    expect(s.io.stderr).toEqual([]);
    await expect(fetch(`${s.server.url}/metrics`)).rejects.toThrow();
  });

  it('counts runs that finish while it serves', async () => {
    const live = join(dir, 'live');
    await makeRuns(live, [{ flow: 'gamma' }]);
    const s = await startServe({ port: 0, runsDir: live, pollMs: 20 });
    try {
      expect(sampleValue(await scrape(s.server), 'flowmeter_runs_finished_total', { flow_id: 'gamma', outcome: 'success' })).toBe(1);
      await makeRuns(live, [{ flow: 'gamma' }, { flow: 'gamma' }]);
      await eventually(async () => sampleValue(await scrape(s.server), 'flowmeter_runs_finished_total', { flow_id: 'gamma', outcome: 'success' }) === 3);
    } finally {
      await s.stop();
    }
  });

  it('serves ARX\'s families with --profile arx, and OpenMetrics to Prometheus', async () => {
    const s = await startServe({ port: 0, runsDir, profile: 'arx' });
    try {
      const text = await scrape(s.server, { accept: 'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5' });
      expect(sampleValue(text, 'ar_flow_started_total', { flow_id: 'alpha', persona: 'CODER_AI' })).toBe(2);
      expect(sampleValue(text, 'ar_flow_success_total', { flow_id: 'alpha' })).toBe(2);
      expect(text).not.toContain('flowmeter_runs_finished_total');
      expect(text).toMatch(/# EOF\n$/);
      expect(s.io.stdout[0]).toContain('(profiles: arx;');
    } finally {
      await s.stop();
    }
  });

  it('skips a malformed line, counts it in a metric and in /healthz', async () => {
    const torn = join(dir, 'torn');
    await makeRuns(torn, [{ flow: 'alpha' }]);
    mkdirSync(join(torn, 'zz-broken'));
    writeFileSync(join(torn, 'zz-broken', 'events.jsonl'), 'this is not an event\n');
    const s = await startServe({ port: 0, runsDir: torn });
    try {
      expect(sampleValue(await scrape(s.server), 'flowmeter_serve_malformed_lines_total')).toBe(1);
      const health = (await (await fetch(`${s.server.url}/healthz`)).json()) as Record<string, unknown>;
      expect(health).toMatchObject({ status: 'ok', ready: true, runs_dir: torn, files: 2, malformed_lines: 1 });
      expect(health.events).toBeGreaterThan(2);
    } finally {
      await s.stop();
    }
  });

  it('waits for a runs folder that does not exist yet and says so', async () => {
    const later = join(dir, 'later');
    const s = await startServe({ port: 0, runsDir: later, pollMs: 20 });
    try {
      expect(s.io.stdout[0]).toContain(`runs: ${later}, not created yet;`);
      await makeRuns(later, [{ flow: 'delta' }]);
      await eventually(async () => sampleValue(await scrape(s.server), 'flowmeter_runs_finished_total', { flow_id: 'delta' }) === 1);
      expect(s.io.stderr).toEqual([]);
    } finally {
      await s.stop();
    }
  });

  it('requires the bearer token from FLOWMETER_TOKEN', async () => {
    const s = await startServe({ port: 0, runsDir }, { env: { FLOWMETER_TOKEN: 'tok-123' } });
    try {
      expect((await fetch(`${s.server.url}/metrics`)).status).toBe(401);
      expect(await scrape(s.server, { authorization: 'Bearer tok-123' })).toContain('flowmeter_runs_finished_total');
      expect(s.io.stdout[0]).toContain('bearer token required');
    } finally {
      await s.stop();
    }
  });

  it('listens where ARX\'s AR_METRICS_PORT and AR_METRICS_ADDR say', async () => {
    const port = await freePort();
    const s = await startServe({ runsDir }, { env: { AR_METRICS_PORT: String(port), AR_METRICS_ADDR: '127.0.0.1' } });
    try {
      expect(s.server.url).toBe(`http://127.0.0.1:${port}`);
    } finally {
      await s.stop();
    }
  });

  it('lets --port win over FLOWMETER_METRICS_PORT, which wins over AR_METRICS_PORT', async () => {
    const [a, b] = [await freePort(), await freePort()];
    const byEnv = await startServe({ runsDir }, { env: { FLOWMETER_METRICS_PORT: String(a), AR_METRICS_PORT: String(b) } });
    await byEnv.stop();
    expect(byEnv.server.port).toBe(a);
    const byFlag = await startServe({ runsDir, port: 0 }, { env: { FLOWMETER_METRICS_PORT: String(a) } });
    await byFlag.stop();
    expect(byFlag.server.port).not.toBe(a);
  });

  it('exits 1 with exactly one stderr line when the port is in use', async () => {
    const blocked = await blockPort();
    try {
      const io = capture();
      expect(await serve({ port: blocked.port, runsDir }, io, { env: {} })).toBe(1);
      expect(io.stderr).toEqual([
        `flowmeter: cannot listen on 127.0.0.1:${blocked.port}: address already in use (another flowmeter serve or exporter is running; pick another port with --port)`,
      ]);
      expect(io.stdout).toEqual([]);
      const viaMain = capture();
      expect(await main(['serve', '--port', String(blocked.port), '--runs-dir', runsDir], viaMain)).toBe(1);
      expect(viaMain.stderr).toHaveLength(1);
    } finally {
      await blocked.close();
    }
  });

  it('exits 1 with one line when metrics are disabled', async () => {
    for (const [name, env] of [['FLOWMETER_ENABLE_METRICS=0', { FLOWMETER_ENABLE_METRICS: '0' }], ['AR_ENABLE_METRICS=0', { AR_ENABLE_METRICS: '0' }]] as const) {
      const io = capture();
      expect(await serve({ port: 0, runsDir }, io, { env })).toBe(1);
      expect(io.stderr).toEqual([`flowmeter: metrics are disabled (${name}); unset it or set it to 1 to serve /metrics`]);
    }
  });

  it('exits 1 with one line on a bad environment value', async () => {
    const io = capture();
    expect(await serve({ runsDir }, io, { env: { AR_METRICS_PORT: 'ninety' } })).toBe(1);
    expect(io.stderr).toEqual(['flowmeter: AR_METRICS_PORT=ninety is not a port; use an integer from 0 to 65535']);
  });

  it('exits 2 on a bad --port, --poll-ms or --profile', async () => {
    for (const args of [['--port', 'http'], ['--port', '65536'], ['--poll-ms', '0'], ['--profile', 'default,nope']]) {
      const io = capture();
      expect(await main(['serve', '--runs-dir', runsDir, ...args], io), args.join(' ')).toBe(2);
      expect(io.stderr.join('\n')).not.toMatch(/\n\s+at /);
    }
  });

  it('runs from the command line until SIGTERM, then closes and returns 0', async () => {
    const io = capture();
    const listeners = process.listenerCount('SIGTERM');
    const exit = main(['serve', '--port', '0', '--runs-dir', runsDir, '--profile', 'default,enzu'], io);
    await eventually(() => io.stdout.length === 1);
    const url = /on (http:\/\/\S+) /.exec(io.stdout[0]!)![1]!;
    expect(await (await fetch(`${url}/metrics`)).text()).toContain('enzu_');
    process.emit('SIGTERM');
    expect(await exit).toBe(0);
    expect(process.listenerCount('SIGTERM')).toBe(listeners);
    await expect(fetch(`${url}/metrics`)).rejects.toThrow();
  });
});

// Appending to a file while it is served: the tailer's partial-line handling end to end.
describe('flowmeter serve with a writer mid-line', () => {
  it('counts a line only once its writer finishes it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flowmeter-serve-partial-'));
    try {
      const src = join(dir, 'src');
      await makeRuns(src, [{ flow: 'omega' }]);
      const run = readdirSync(src)[0]!;
      const text = readFileSync(join(src, run, 'events.jsonl'), 'utf8');
      const cut = text.lastIndexOf('{"kind":"run_finished"') + 30;
      const runsDir = join(dir, 'runs');
      mkdirSync(join(runsDir, run), { recursive: true });
      writeFileSync(join(runsDir, run, 'events.jsonl'), text.slice(0, cut));
      const s = await startServe({ port: 0, runsDir, pollMs: 20 });
      try {
        expect(sampleValue(await scrape(s.server), 'flowmeter_runs_finished_total', { flow_id: 'omega' })).toBeUndefined();
        appendFileSync(join(runsDir, run, 'events.jsonl'), text.slice(cut));
        await eventually(async () => sampleValue(await scrape(s.server), 'flowmeter_runs_finished_total', { flow_id: 'omega' }) === 1);
        expect(sampleValue(await scrape(s.server), 'flowmeter_serve_malformed_lines_total')).toBe(0);
      } finally {
        await s.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
