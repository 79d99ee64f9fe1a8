/**
 * One histogram observation with three labels, flowmeter's recorder beside prom-client, in
 * the same run and on the same values: latencies from 50 ms to 20 s, OpenTelemetry GenAI's
 * advised duration buckets, and three cardinality shapes (1, 100 and 2,000 series visited
 * round-robin). Rows:
 *   - `handle.observe(v)` on an interned series, against prom-client's cached child
 *     (`child = h.labels(a, b, c); child.observe(v)`) and its `h.observe({ a, b, c }, v)`;
 *   - `family.labels(a, b, c).observe(v)`, lookup included, against `h.labels(a, b, c).observe(v)`;
 *   - bytes allocated per observation over 10M observations (prom-client: 200k), measured
 *     in a child process with --expose-gc (this file, run with `--allocation-probe`).
 * Run alone: `npx tsx bench/recorder-observe.ts`.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';
import { Histogram as PromHistogram, Registry as PromRegistry } from 'prom-client';
import { Registry } from '../src/recorder/index.js';
import type { Histogram, HistogramFamily } from '../src/recorder/index.js';
import type { BenchResult } from './harness.js';
import { measure, printResults, round, withPeer } from './harness.js';

const PROBE_OPS = 10_000_000;
// prom-client allocates per observation; fewer ops keep its run inside one young generation.
const PEER_PROBE_OPS = 200_000;
const BUCKETS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];
const LABEL_NAMES = ['provider', 'model', 'phase'];
const SHAPES = [1, 100, 2000] as const;
const PROVIDERS = ['openai', 'anthropic', 'google', 'mistral'];
const PHASES = ['initial', 'summary', 'synthesis', 'retry', 'verify'];

/** Log-uniform latencies from 0.05 s to 20 s (seeded), so bucket and sketch lookups vary. */
function latencies(): Float64Array {
  const values = new Float64Array(4096);
  let seed = 7;
  for (let i = 0; i < values.length; i++) {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    values[i] = 0.05 * Math.pow(400, seed / 2 ** 32);
  }
  return values;
}

/** `count` distinct (provider, model, phase) label sets. */
function labelSets(count: number): [string, string, string][] {
  return Array.from({ length: count }, (_, i) => [
    PROVIDERS[i % PROVIDERS.length]!,
    `model-${Math.floor(i / PROVIDERS.length) % 100}`,
    PHASES[Math.floor(i / (PROVIDERS.length * 100)) % PHASES.length]!,
  ]);
}

function ourFamily(): HistogramFamily {
  return new Registry().histogram({ name: 'llm_request_duration_seconds', help: 'x', labelNames: LABEL_NAMES, buckets: BUCKETS });
}

function promHistogram(): PromHistogram {
  return new PromHistogram({ name: 'llm_request_duration_seconds', help: 'x', labelNames: LABEL_NAMES, buckets: BUCKETS, registers: [new PromRegistry()] });
}

const VALUES = latencies();
const MASK = VALUES.length - 1;

// Each loop is its own function, so V8 optimizes (and inlines) each for its one call site.
// The one-series shape calls the handle directly; the others walk an array round-robin.
// Many short rounds (under 1 ms for ours, about 1.5 ms for prom-client): on a shared machine
// a round either runs through or is preempted, and the median of 101 is one that ran through.
const MEASURE_OURS = { ops: 50_000, warmupOps: 1_000_000, rounds: 101 } as const;
const MEASURE_PEER = { ops: 2_000, warmupOps: 50_000, rounds: 101 } as const;

async function oursHandle(sets: [string, string, string][]): Promise<number> {
  const family = ourFamily();
  const handles: Histogram[] = sets.map(([a, b, c]) => family.labels(a, b, c));
  const n = handles.length;
  const only = handles[0]!;
  if (n === 1) {
    return measure((ops) => {
      for (let i = 0; i < ops; i++) only.observe(VALUES[i & MASK]!);
    }, MEASURE_OURS);
  }
  return measure((ops) => {
    let j = 0;
    for (let i = 0; i < ops; i++) {
      handles[j]!.observe(VALUES[i & MASK]!);
      j = j + 1 === n ? 0 : j + 1;
    }
  }, MEASURE_OURS);
}

async function oursLookup(sets: [string, string, string][]): Promise<number> {
  const family = ourFamily();
  const n = sets.length;
  const a = sets.map((set) => set[0]);
  const b = sets.map((set) => set[1]);
  const c = sets.map((set) => set[2]);
  for (let j = 0; j < n; j++) family.labels(a[j]!, b[j]!, c[j]!);
  return measure((ops) => {
    let j = 0;
    for (let i = 0; i < ops; i++) {
      family.labels(a[j]!, b[j]!, c[j]!).observe(VALUES[i & MASK]!);
      j = j + 1 === n ? 0 : j + 1;
    }
  }, MEASURE_OURS);
}

async function promChild(sets: [string, string, string][]): Promise<number> {
  const histogram = promHistogram();
  const children = sets.map(([a, b, c]) => histogram.labels(a, b, c));
  const n = children.length;
  const only = children[0]!;
  if (n === 1) {
    return measure((ops) => {
      for (let i = 0; i < ops; i++) only.observe(VALUES[i & MASK]!);
    }, MEASURE_PEER);
  }
  return measure((ops) => {
    let j = 0;
    for (let i = 0; i < ops; i++) {
      children[j]!.observe(VALUES[i & MASK]!);
      j = j + 1 === n ? 0 : j + 1;
    }
  }, MEASURE_PEER);
}

async function promLabelObject(sets: [string, string, string][]): Promise<number> {
  const histogram = promHistogram();
  const objects = sets.map(([provider, model, phase]) => ({ provider, model, phase }));
  const n = objects.length;
  return measure((ops) => {
    let j = 0;
    for (let i = 0; i < ops; i++) {
      histogram.observe(objects[j]!, VALUES[i & MASK]!);
      j = j + 1 === n ? 0 : j + 1;
    }
  }, MEASURE_PEER);
}

async function promLookup(sets: [string, string, string][]): Promise<number> {
  const histogram = promHistogram();
  const n = sets.length;
  const a = sets.map((set) => set[0]);
  const b = sets.map((set) => set[1]);
  const c = sets.map((set) => set[2]);
  return measure((ops) => {
    let j = 0;
    for (let i = 0; i < ops; i++) {
      histogram.labels(a[j]!, b[j]!, c[j]!).observe(VALUES[i & MASK]!);
      j = j + 1 === n ? 0 : j + 1;
    }
  }, MEASURE_PEER);
}

interface ProbeResult {
  readonly subject: string;
  readonly ops: number;
  readonly ns_per_op: number;
  /** Young-generation bytes taken in during the loop, per op; null when a collection ran in it. */
  readonly bytes_per_op: number | null;
  readonly young_generation_bytes: number;
  /** Young-generation bytes of the same measurement around an empty loop. */
  readonly measurement_bytes: number;
  readonly collections_during_loop: number;
  /** heapUsed after minus before, both right after forced collections. */
  readonly heap_growth_bytes: number;
}

/**
 * Runs this file in a child process with --expose-gc and reads its one JSON line. The young
 * generation is set to 128 MB so that a loop that allocates is measured, not collected.
 */
function probeAllocation(subject: 'recorder' | 'prom-client', ops: number): ProbeResult {
  const flags = ['--expose-gc', '--min-semi-space-size=128', '--max-semi-space-size=128', '--import', 'tsx'];
  const child = spawnSync(process.execPath, [...flags, fileURLToPath(import.meta.url), '--allocation-probe', subject, String(ops)], {
    encoding: 'utf8',
    timeout: 600_000,
  });
  const line = child.stdout.trim().split('\n').pop() ?? '';
  if (child.status !== 0 || !line.startsWith('{')) throw new Error(`allocation probe failed: ${child.stderr || child.stdout}`);
  return JSON.parse(line) as ProbeResult;
}

/** The child's side: `ops` observations on one interned series, heap measured around them. */
async function runAllocationProbe(subject: string, ops: number): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('the allocation probe needs --expose-gc');
  const [a, b, c] = ['openai', 'gpt-4o', 'initial'];
  let observe: (value: number) => void;
  if (subject === 'recorder') {
    const handle = ourFamily().labels(a, b, c);
    observe = (value) => handle.observe(value);
  } else {
    const child = promHistogram().labels(a, b, c);
    observe = (value) => child.observe(value);
  }
  const record = (ops: number): void => {
    for (let i = 0; i < ops; i++) observe(VALUES[i & MASK]!);
  };
  // Several calls, so the loop function itself is optimized, not only its loop (OSR).
  for (let r = 0; r < 10; r++) record(200_000);
  const youngUsed = (): number => getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.space_used_size ?? Number.NaN;
  let start = Number.POSITIVE_INFINITY;
  let end = Number.POSITIVE_INFINITY;
  let collections = 0;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) if (entry.startTime >= start && entry.startTime <= end) collections++;
  });
  observer.observe({ entryTypes: ['gc'] });
  // The measurement's own cost (reading the clock and the heap statistics), taken around an
  // empty loop and subtracted below, so that what remains is per observation.
  gc();
  const emptyBefore = youngUsed();
  start = performance.now();
  record(0);
  end = performance.now();
  const measuring = youngUsed() - emptyBefore;
  gc();
  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  const youngBefore = youngUsed();
  start = performance.now();
  record(ops);
  end = performance.now();
  const young = youngUsed() - youngBefore;
  gc();
  gc();
  const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
  await new Promise((resolve) => setTimeout(resolve, 50));
  observer.disconnect();
  const result: ProbeResult = {
    subject,
    ops,
    ns_per_op: ((end - start) * 1e6) / ops,
    // A collection during the loop means the young generation filled up at least once, so
    // the before/after difference no longer counts everything; report that as unknown.
    bytes_per_op: collections === 0 ? Math.max(0, young - measuring) / ops : null,
    young_generation_bytes: young,
    measurement_bytes: measuring,
    collections_during_loop: collections,
    heap_growth_bytes: heapGrowth,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

export async function benchRecorderObserve(): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  for (const shape of SHAPES) {
    const sets = labelSets(shape);
    const series = shape === 1 ? '1 series' : `${shape} series round-robin`;
    const handle = await oursHandle(sets);
    const child = await promChild(sets);
    const object = await promLabelObject(sets);
    const goal = shape === 1 ? { goal_ns: 15 } : {};
    results.push(withPeer(`recorder handle.observe (${series})`, handle, 'prom-client child.observe (cached labels())', child, goal));
    results.push(withPeer(`recorder handle.observe (${series})`, handle, 'prom-client observe({a,b,c}, v)', object));
    const lookup = await oursLookup(sets);
    const peerLookup = await promLookup(sets);
    results.push(withPeer(`recorder labels(a,b,c).observe (${series})`, lookup, 'prom-client labels(a,b,c).observe', peerLookup));
  }
  const ours = probeAllocation('recorder', PROBE_OPS);
  const peer = probeAllocation('prom-client', PEER_PROBE_OPS);
  const describe = (probe: ProbeResult): string =>
    `${probe.bytes_per_op === null ? 'unknown (a collection ran)' : probe.bytes_per_op.toFixed(4)} bytes/op allocated over ` +
    `${probe.ops.toLocaleString('en-US')} ops (young generation +${probe.young_generation_bytes} B, of which ${probe.measurement_bytes} B ` +
    `is the measurement itself; ${probe.collections_during_loop} collections ` +
    `during the loop; heap after forced GC ${probe.heap_growth_bytes >= 0 ? '+' : ''}${probe.heap_growth_bytes} B)`;
  results.push({ name: 'recorder handle.observe allocation (10M ops, --expose-gc child)', ns_per_op: round(ours.ns_per_op), note: describe(ours) });
  results.push({ name: 'prom-client child.observe allocation (200k ops, --expose-gc child)', ns_per_op: round(peer.ns_per_op), note: describe(peer) });
  return results;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const probe = process.argv.indexOf('--allocation-probe');
  if (probe !== -1) await runAllocationProbe(process.argv[probe + 1] ?? 'recorder', Number(process.argv[probe + 2] ?? PROBE_OPS));
  else printResults(await benchRecorderObserve());
}
