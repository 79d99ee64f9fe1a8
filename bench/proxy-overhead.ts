/**
 * Proxy overhead beside the Portkey AI gateway (`@portkey-ai/gateway`, a TypeScript
 * gateway), in the same run: a local upstream speaking the OpenAI wire format with a fixed
 * latency is called directly, through `flowmeter proxy`, through a plain Node forwarder that
 * measures nothing (the floor), and through Portkey pointed at the same upstream,
 * interleaved in rounds, with autocannon at a fixed request rate. Added
 * latency is each target's p50 (p99) minus the direct p50 (p99) of the same round; the
 * figure is the median over rounds. Every process is separate: load, upstream, proxies.
 * Latencies are taken per response from autocannon's `response` event (hrtime, sub-ms),
 * not from its millisecond histogram.
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import type { BenchResult } from './harness.js';
import { round, withPeer } from './harness.js';

const SECONDS = Number(process.env.FLOWMETER_BENCH_PROXY_SECONDS ?? 4);
const ROUNDS = Number(process.env.FLOWMETER_BENCH_PROXY_ROUNDS ?? 3);
/** An environment setting that is one of two words, the first by default. */
function envChoice<A extends string, B extends string>(name: string, first: A, second: B): A | B {
  const value = process.env[name] ?? first;
  if (value !== first && value !== second) throw new Error(`${name}=${value}: use ${first} or ${second}`);
  return value as A | B;
}
// `bare`: the proxy's own cost (Prometheus only); `files`: the CLI's defaults, run folders and the SQLite store included.
const MODE = envChoice('FLOWMETER_BENCH_PROXY_MODE', 'bare', 'files');
// In files mode, where the store is written: `thread` as the CLI does, or `sync` on the event loop (the earlier default), to compare.
const STORE_WRITER = envChoice('FLOWMETER_BENCH_PROXY_STORE_WRITER', 'thread', 'sync');
const RATES = [100, 500, 2000] as const;
const UPSTREAM_LATENCY_MS = 5;
const CHUNK_DELAY_MS = 5;
const TTFT_SAMPLES = 60;
const BODY = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hello.' }] });
const STREAM_BODY = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hello.' }], stream: true });

interface Target {
  readonly name: 'direct' | 'flowmeter' | 'forwarder' | 'portkey';
  readonly url: string;
  readonly headers: Record<string, string>;
}

interface Child {
  readonly url: string;
  readonly process: ChildProcess;
}

const here = dirname(fileURLToPath(import.meta.url));

function startRole(args: readonly string[]): Promise<Child> {
  const child = spawn(process.execPath, [...process.execArgv, join(here, 'proxy', 'servers.ts'), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /READY (\S+)/.exec(out);
      if (m !== null) resolve({ url: m[1]!, process: child });
    });
    child.once('exit', (code) => reject(new Error(`${args[0] ?? ''} exited with ${String(code)}`)));
  });
}

/** The proxy's event-loop busy share since it was last asked (servers.ts prints it on SIGUSR2); null off Linux-like signals. */
function busyShare(child: Child): Promise<number | null> {
  const stdout = child.process.stdout;
  if (stdout === null || process.platform === 'win32') return Promise.resolve(null);
  return new Promise((resolve) => {
    let out = '';
    const onData = (d: Buffer): void => {
      out += d.toString();
      const m = /BUSY (\S+)/.exec(out);
      if (m === null) return;
      stdout.off('data', onData);
      resolve(Number(m[1]));
    };
    stdout.on('data', onData);
    child.process.kill('SIGUSR2');
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function startPortkey(): Promise<Child> {
  const script = createRequire(import.meta.url).resolve('@portkey-ai/gateway/build/start-server.js');
  const port = await freePort();
  const child = spawn(process.execPath, [script, `--port=${port}`, '--headless'], { stdio: 'ignore', env: { ...process.env, NODE_ENV: 'production' } });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    await new Promise((r) => setTimeout(r, 100));
    try {
      if ((await fetch(url)).ok) return { url, process: child };
    } catch {
      // not listening yet
    }
  }
  child.kill();
  throw new Error('the Portkey gateway did not start');
}

/** CPU time (user + system) a process has used so far, ms, from /proc (Linux); null elsewhere. */
function cpuMs(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS;
  } catch {
    return null;
  }
}

const TICKS = ((): number => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

function median(values: readonly number[]): number {
  const s = [...values].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

interface Load {
  readonly p50: number;
  readonly p99: number;
  readonly ok: number;
  readonly failed: number;
}

async function load(target: Target, rate: number, seconds: number): Promise<Load> {
  const latencies: number[] = [];
  let failed = 0;
  // Enough connections that the rate, not the pool, sets the pace.
  const connections = Math.max(4, Math.ceil((rate * (UPSTREAM_LATENCY_MS + 15)) / 1000) * 2);
  const instance = autocannon({ url: target.url, method: 'POST', headers: target.headers, body: BODY, connections, overallRate: rate, duration: seconds });
  instance.on('response', (_client, status, _bytes, ms) => {
    if (status === 200) latencies.push(ms);
    else failed++;
  });
  const result = await instance;
  latencies.sort((x, y) => x - y);
  return { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), ok: latencies.length, failed: failed + result.errors + result.timeouts };
}

/** Time from sending a streamed request to the first chunk that carries content, ms. */
function ttft(target: Target): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const req = request(target.url, { method: 'POST', headers: target.headers }, (res) => {
      let seen = false;
      res.on('data', (chunk: Buffer) => {
        if (!seen && /"content":"[^"]/.test(chunk.toString())) {
          seen = true;
          resolve(performance.now() - start);
        }
      });
      res.on('end', () => {
        if (!seen) reject(new Error(`${target.name}: no content in the stream (status ${String(res.statusCode)})`));
      });
    });
    req.on('error', reject);
    req.end(STREAM_BODY);
  });
}

async function scrapeCount(url: string, metric: RegExp): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) if (metric.test(line)) sum += Number(line.split(' ').at(-1));
  return sum;
}

export async function benchProxyOverhead(): Promise<BenchResult[]> {
  const upstream = await startRole(['upstream', String(UPSTREAM_LATENCY_MS), String(CHUNK_DELAY_MS)]);
  const children: Child[] = [upstream];
  try {
    const flowmeter = await startRole(['flowmeter', upstream.url, MODE]);
    children.push(flowmeter);
    const forwarder = await startRole(['forwarder', upstream.url]);
    children.push(forwarder);
    const portkey = await startPortkey();
    children.push(portkey);
    const json = { 'content-type': 'application/json', authorization: 'Bearer sk-bench' };
    const targets: Target[] = [
      { name: 'direct', url: `${upstream.url}/v1/chat/completions`, headers: json },
      { name: 'flowmeter', url: `${flowmeter.url}/openai/v1/chat/completions`, headers: json },
      { name: 'forwarder', url: `${forwarder.url}/openai/v1/chat/completions`, headers: json },
      { name: 'portkey', url: `${portkey.url}/v1/chat/completions`, headers: { ...json, 'x-portkey-provider': 'openai', 'x-portkey-custom-host': `${upstream.url}/v1` } },
    ];
    let sentToFlowmeter = 0;
    for (const t of targets) {
      // A cold gateway on a busy machine may answer nothing in the first second or two.
      let ok = 0;
      for (let attempt = 0; attempt < 5 && ok === 0; attempt++) {
        const warm = await load(t, 200, 2);
        if (t.name === 'flowmeter') sentToFlowmeter += warm.ok;
        ok = warm.ok;
      }
      if (ok === 0) throw new Error(`${t.name} answered no request during warm-up`);
    }

    const results: BenchResult[] = [];
    for (const rate of RATES) {
      const added: Record<'flowmeter' | 'forwarder' | 'portkey', { p50: number[]; p99: number[]; cpu: number[] }> = {
        flowmeter: { p50: [], p99: [], cpu: [] },
        forwarder: { p50: [], p99: [], cpu: [] },
        portkey: { p50: [], p99: [], cpu: [] },
      };
      const busy: number[] = [];
      const pids = { flowmeter: flowmeter.process.pid, forwarder: forwarder.process.pid, portkey: portkey.process.pid };
      const failed: Record<string, number> = {};
      for (let round = 0; round < ROUNDS; round++) {
        // Rotate the order each round so no target always runs first (or right after another).
        const order = targets.map((_, i) => targets[(i + round) % targets.length]!);
        const got = new Map<string, Load>();
        for (const t of order) {
          const before = t.name === 'direct' ? null : cpuMs(pids[t.name]);
          if (t.name === 'flowmeter') await busyShare(flowmeter);
          const l = await load(t, rate, SECONDS);
          if (t.name === 'flowmeter') {
            const share = await busyShare(flowmeter);
            if (share !== null) busy.push(share);
          }
          if (t.name !== 'direct' && before !== null) {
            // The proxy process's own CPU per answered request: what it costs whatever the machine's load.
            const after = cpuMs(pids[t.name]);
            if (after !== null && l.ok > 0) added[t.name].cpu.push((after - before) / l.ok);
          }
          got.set(t.name, l);
          failed[t.name] = (failed[t.name] ?? 0) + l.failed;
          if (t.name === 'flowmeter') sentToFlowmeter += l.ok;
        }
        const direct = got.get('direct')!;
        for (const name of ['flowmeter', 'forwarder', 'portkey'] as const) {
          const l = got.get(name)!;
          added[name].p50.push(l.p50 - direct.p50);
          added[name].p99.push(l.p99 - direct.p99);
        }
      }
      const ms = (v: number): number => v * 1e6;
      const note = `flowmeter ${MODE === 'files' ? `files, store ${STORE_WRITER}` : MODE}; event loop busy ${busy.length === 0 ? '?' : `${Math.round(median(busy) * 100)}%`}; direct upstream latency ${UPSTREAM_LATENCY_MS} ms; failed requests: ${Object.entries(failed).map(([k, v]) => `${k} ${v}`).join(', ')}`;
      results.push(withPeer(`proxy added latency p50 @ ${rate} rps`, ms(median(added.flowmeter.p50)), 'Portkey gateway', ms(median(added.portkey.p50)), { ...(rate === 500 && { goal_ns: 300_000 }), note }));
      results.push(withPeer(`proxy added latency p99 @ ${rate} rps`, ms(median(added.flowmeter.p99)), 'Portkey gateway', ms(median(added.portkey.p99)), rate === 500 ? { goal_ns: 1_000_000 } : {}));
      results.push({
        name: `floor: plain Node forwarder added latency p50 / p99 @ ${rate} rps`,
        ns_per_op: round(ms(median(added.forwarder.p50))),
        ...(rate === 500 && { goal_ns: 300_000 }),
        note: `p99 ${(median(added.forwarder.p99)).toFixed(2)} ms: an HTTP server that forwards with undici and measures nothing, in the same rounds — what any Node proxy adds here`,
      });
      if (added.flowmeter.cpu.length > 0 && added.portkey.cpu.length > 0) {
        results.push(withPeer(`proxy process CPU per request @ ${rate} rps`, ms(median(added.flowmeter.cpu)), 'Portkey gateway', ms(median(added.portkey.cpu)), { note: `user+system time of each proxy's process over a load window, per answered request (/proc, ${TICKS} Hz ticks)` }));
      }
    }

    // Time to first token, streamed: sequential requests, interleaved direct/flowmeter.
    const diffs: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const d: number[] = [];
      const f: number[] = [];
      for (let i = 0; i < TTFT_SAMPLES; i++) {
        d.push(await ttft({ ...targets[0]!, headers: json }));
        f.push(await ttft({ ...targets[1]!, headers: json }));
      }
      sentToFlowmeter += TTFT_SAMPLES;
      diffs.push(median(f) - median(d));
    }
    let portkeyStream = 'streams';
    try {
      await ttft(targets[2]!);
    } catch (err) {
      portkeyStream = `fails streamed calls here (${err instanceof Error ? err.message : String(err)})`;
    }
    results.push({ name: 'stream time to first token, proxy minus direct', ns_per_op: Math.round(median(diffs) * 1e6), goal_ns: 1_000_000, note: `median of ${ROUNDS} round medians of ${TTFT_SAMPLES} streamed calls each; the Portkey gateway ${portkeyStream}` });

    // Nothing lost: every answered request became a recorded call.
    await new Promise((r) => setTimeout(r, 500));
    const recorded = await scrapeCount(flowmeter.url, /^flowmeter_llm_request_duration_seconds_count/);
    const made = await scrapeCount(flowmeter.url, /^flowmeter_proxy_requests_total\{upstream="openai",endpoint="chat_completions"/);
    results.push({ name: 'proxy calls recorded = calls made', ns_per_op: recorded, note: `${recorded} llm calls recorded of ${made} metered requests the proxy took (${recorded === made ? 'none lost' : 'MISMATCH'}); the load generator saw ${sentToFlowmeter} answers, the rest were cut off by the end of a load window` });
    return results;
  } finally {
    for (const c of children) c.process.kill();
  }
}
