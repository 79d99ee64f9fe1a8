/**
 * The full cost of recording one LLM call through the SDK: timing, usage extraction,
 * pricing, the event, the audit queue, and the default sinks' formatting (a
 * metrics.jsonl line and a logfmt line). File writes are excluded by giving the sinks
 * a destination that discards (one row keeps them, on the temp folder, for reference).
 * What is reported is the SDK's overhead: the same loop calling the function bare is
 * measured in the same run and subtracted.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Counter, Histogram, Registry } from 'prom-client';
import { createMeter } from '../src/index.js';
import type { FlowEvent, Meter, MeterOptions, Sink } from '../src/index.js';
import { metricsLine } from '../src/sinks/index.js';
import { eventLine } from '../src/sinks/event-line.js';
import type { BenchResult } from './harness.js';
import { measure, round, withPeer } from './harness.js';

const OPS = 200_000;
const RESPONSE = { usage: { prompt_tokens: 1234, completion_tokens: 89, total_tokens: 1323, prompt_tokens_details: { cached_tokens: 0 } } };
const RESOLVED = Promise.resolve(RESPONSE);
const call = (): Promise<typeof RESPONSE> => RESOLVED;
const META = { provider: 'openai', model: 'gpt-4o', phase: 'initial' } as const;
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * The run-folder sinks' per-line work without the write: the metrics.jsonl line (tier 2)
 * and the events.jsonl line (audit trail), as the file sinks build them before write(2).
 */
class RunFilesFormatOnly implements Sink {
  readonly name = 'run-files-format';
  bytes = 0;
  write(events: readonly FlowEvent[]): void {
    for (const e of events) {
      if (e.kind === 'llm_call' || e.kind === 'tool_call' || e.kind === 'tokens') this.bytes += metricsLine(e).length + 1;
      this.bytes += eventLine(e).length + 1;
    }
  }
}

const discard = { write: (_chunk: string): boolean => true };

async function perCall(meter: Meter): Promise<number> {
  return measure(
    async (ops) => {
      await meter.run({ flowId: 'bench' }, async (run) => {
        for (let i = 0; i < ops; i++) {
          await run.llmCall(META, call);
          // Real agents yield to the event loop between calls; that is when the audit queue drains.
          if ((i & 255) === 255) await nextTurn();
        }
      });
    },
    { ops: OPS },
  );
}

async function bare(): Promise<number> {
  return measure(
    async (ops) => {
      for (let i = 0; i < ops; i++) {
        await call();
        if ((i & 255) === 255) await nextTurn();
      }
    },
    { ops: OPS },
  );
}

function promClientPeer(): Promise<number> {
  const registry = new Registry();
  const duration = new Histogram({ name: 'llm_request_duration_seconds', help: 'x', labelNames: ['provider', 'model'], registers: [registry] });
  const tokens = new Counter({ name: 'llm_tokens_total', help: 'x', labelNames: ['direction', 'model'], registers: [registry] });
  const cost = new Counter({ name: 'llm_cost_usd_total', help: 'x', labelNames: ['model'], registers: [registry] });
  return measure(
    (ops) => {
      for (let i = 0; i < ops; i++) {
        const start = performance.now();
        duration.observe({ provider: 'openai', model: 'gpt-4o' }, (performance.now() - start) / 1000);
        tokens.inc({ direction: 'in', model: 'gpt-4o' }, 1234);
        tokens.inc({ direction: 'out', model: 'gpt-4o' }, 89);
        cost.inc({ model: 'gpt-4o' }, 0.003975);
      }
    },
    { ops: OPS },
  );
}

async function meterCost(options: MeterOptions): Promise<{ ns: number; meter: Meter }> {
  const meter = createMeter({ onWarning: () => undefined, ...options });
  const ns = await perCall(meter);
  await meter.close();
  return { ns, meter };
}

export async function benchSdkLlmCall(): Promise<BenchResult[]> {
  // Order matters: the first AsyncLocalStorage.run turns on promise hooks for the whole
  // process, which makes every await slower. The bare baseline and the metrics-off case
  // are measured before that, as an app with metrics off would run; the enabled cases
  // are charged for the hooks, because using the SDK is what turns them on.
  const baseline = await bare();
  const off = await meterCost({ enabled: false });
  const peer = await promClientPeer();
  const peerName = 'prom-client (histogram + 3 counters)';

  const full = await meterCost({ runsDir: false, log: { format: 'logfmt', destination: discard }, sinks: [new RunFilesFormatOnly()] });
  const hot = await meterCost({ runsDir: false, log: false });

  const dir = mkdtempSync(join(tmpdir(), 'flowmeter-bench-'));
  const files = await meterCost({ runsDir: join(dir, 'runs'), log: { destination: { path: join(dir, 'flowmeter.log') } } });
  rmSync(dir, { recursive: true, force: true });

  const overhead = (ns: number): number => Math.max(0, ns - baseline);
  const raw = (ns: number): string => `raw ${round(ns)} ns/call minus ${round(baseline)} ns for the bare awaited call`;
  return [
    withPeer('sdk.llm_call (default sinks: metrics.jsonl, events.jsonl, logfmt, Prometheus; no file I/O)', overhead(full.ns), peerName, peer, { goal_ns: 2000, note: raw(full.ns) }),
    withPeer('sdk.llm_call (no sinks: record + queue)', overhead(hot.ns), peerName, peer, { note: raw(hot.ns) }),
    { name: 'sdk.llm_call (default sinks, files on tmp)', ns_per_op: round(overhead(files.ns)), note: `${raw(files.ns)}; includes write(2) to metrics.jsonl and the log` },
    { name: 'sdk.llm_call (metrics off)', ns_per_op: round(overhead(off.ns)), goal_ns: 50, note: raw(off.ns) },
  ];
}
