/**
 * Rendering /metrics: our exposition writer beside prom-client's `registry.metrics()`
 * holding the same series with the same values, in the same run. A series is what
 * Prometheus stores: one sample line, so a histogram label set with 13 bounds is 16 series
 * (13 buckets, +Inf, _sum, _count). Label sets have three labels (flow_id × step_id × model).
 *
 *   counters            one counter family, 10,000 label sets: 10,000 series
 *   histograms          one histogram family (13 bounds), 625 label sets: 10,000 series
 *   mixed               5,200 counter label sets + 300 histogram label sets: 10,000 series
 *   histograms (stress) 10,000 histogram label sets: 160,000 series, 15.6 MB (no goal)
 *
 * The goal is 20 ms per render of 10,000 series. Each render is followed by
 * Buffer.byteLength of the text, for both, since a server encodes it anyway and a string
 * built by concatenation is only flattened then. Our first render of a registry also
 * builds the label text of every series, which later scrapes reuse: the median is a warm
 * render, the cold one is in the note, with the longest synchronous piece of `renderAsync`
 * (measured by a setImmediate probe, so it includes any GC pause inside a slice).
 */
import { Counter as PromCounter, Histogram as PromHistogram, Registry as PromRegistry } from 'prom-client';
import { renderRegistry, renderRegistryAsync } from '../src/export/prometheus/index.js';
import { LATENCY_BUCKETS } from '../src/export/prometheus/index.js';
import { Registry } from '../src/recorder/index.js';
import type { BenchResult } from './harness.js';
import { measure, withPeer } from './harness.js';

const GOAL_NS = 20_000_000;
const LABELS = ['flow_id', 'step_id', 'model'];

interface Shape {
  readonly name: string;
  readonly counters: number;
  /** Histogram label sets; each is LATENCY_BUCKETS.length + 3 series. */
  readonly histograms: number;
  readonly goal: boolean;
}

const SHAPES: readonly Shape[] = [
  { name: 'counters', counters: 10_000, histograms: 0, goal: true },
  { name: 'histograms', counters: 0, histograms: 625, goal: true },
  { name: 'mixed', counters: 5_200, histograms: 300, goal: true },
  { name: 'histograms (stress)', counters: 0, histograms: 10_000, goal: false },
];

function labelSet(i: number): [string, string, string] {
  return [`flow_${i % 20}`, `step_${Math.floor(i / 20) % 50}`, `model_${Math.floor(i / 1000) % 10}`];
}

/** Deterministic latencies from ~10 ms to ~2 min, a few per series. */
function latency(i: number, k: number): number {
  return 0.01 * Math.exp(((i * 7919 + k * 104729) % 1000) / 100);
}

function build(shape: Shape): { ours: Registry; peer: PromRegistry } {
  const ours = new Registry({ maxSeriesPerMetric: 20_000 });
  const peer = new PromRegistry();
  const counter = ours.counter({ name: 'bench_calls_total', help: 'Calls.', labelNames: LABELS });
  const histogram = ours.histogram({ name: 'bench_step_duration_seconds', help: 'Step duration.', labelNames: LABELS, buckets: LATENCY_BUCKETS, sketch: false });
  const peerCounter = new PromCounter({ name: 'bench_calls_total', help: 'Calls.', labelNames: LABELS, registers: [peer] });
  const peerHistogram = new PromHistogram({ name: 'bench_step_duration_seconds', help: 'Step duration.', labelNames: LABELS, buckets: [...LATENCY_BUCKETS], registers: [peer] });
  for (let i = 0; i < shape.counters; i++) {
    const [flow, step, model] = labelSet(i);
    const value = (i * 37) % 1000;
    counter.labels(flow, step, model).inc(value);
    peerCounter.inc({ flow_id: flow, step_id: step, model }, value);
  }
  for (let i = 0; i < shape.histograms; i++) {
    const [flow, step, model] = labelSet(i);
    const series = histogram.labels(flow, step, model);
    for (let k = 0; k < 3; k++) {
      series.observe(latency(i, k));
      peerHistogram.observe({ flow_id: flow, step_id: step, model }, latency(i, k));
    }
  }
  return { ours, peer };
}

/** The longest stretch between two event-loop turns while `renderAsync` runs, in ns. */
async function longestBlock(registry: Registry): Promise<number> {
  let longest = 0;
  let last = process.hrtime.bigint();
  let running = true;
  const probe = (): void => {
    const now = process.hrtime.bigint();
    longest = Math.max(longest, Number(now - last));
    last = now;
    if (running) setImmediate(probe);
  };
  setImmediate(probe);
  last = process.hrtime.bigint();
  await renderRegistryAsync(registry, 'text');
  // One more turn, so the probe also measures the stretch that ended the render.
  await new Promise((resolve) => setImmediate(resolve));
  running = false;
  return longest;
}

export async function benchPrometheusRender(): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  for (const shape of SHAPES) {
    const { ours, peer } = build(shape);
    const coldStart = process.hrtime.bigint();
    const first = renderRegistry(ours, 'text');
    Buffer.byteLength(first);
    const coldMs = Number(process.hrtime.bigint() - coldStart) / 1e6;
    const ns = await measure(
      (ops) => {
        for (let i = 0; i < ops; i++) Buffer.byteLength(renderRegistry(ours, 'text'));
      },
      { ops: 10, warmupOps: 5 },
    );
    const omNs = await measure(
      (ops) => {
        for (let i = 0; i < ops; i++) Buffer.byteLength(renderRegistry(ours, 'openmetrics'));
      },
      { ops: 10, warmupOps: 5 },
    );
    const peerNs = await measure(
      async (ops) => {
        for (let i = 0; i < ops; i++) Buffer.byteLength(await peer.metrics());
      },
      { ops: 10, warmupOps: 5 },
    );
    const block = await longestBlock(ours);
    const series = first.split('\n').filter((line) => line !== '' && !line.startsWith('#')).length;
    results.push(
      withPeer(`prometheus render ${shape.name}`, ns, 'prom-client registry.metrics()', peerNs, {
        ...(shape.goal ? { goal_ns: GOAL_NS } : {}),
        note:
          `${series} series, ${(first.length / 1e6).toFixed(1)} MB; first render ${coldMs.toFixed(1)} ms (builds the label cache); ` +
          `OpenMetrics ${(omNs / 1e6).toFixed(1)} ms; renderAsync longest synchronous block ${(block / 1e6).toFixed(1)} ms`,
      }),
    );
  }
  return results;
}
