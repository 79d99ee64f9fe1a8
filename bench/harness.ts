/**
 * A small benchmark harness: warm up, then several timed rounds, report the median
 * round (the median resists a GC pause or a noisy neighbour landing in one round).
 */
export interface BenchResult {
  readonly name: string;
  readonly ns_per_op: number;
  readonly peer?: string;
  readonly peer_ns_per_op?: number;
  /** ours / peer: below 1 means we are faster. */
  readonly ratio?: number;
  readonly goal_ns?: number;
  readonly note?: string;
}

export interface MeasureOptions {
  readonly ops: number;
  readonly rounds?: number;
  readonly warmupOps?: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** ns per op of `body(ops)`, which must perform `ops` operations. */
export async function measure(body: (ops: number) => Promise<void> | void, options: MeasureOptions): Promise<number> {
  const rounds = options.rounds ?? 7;
  await body(options.warmupOps ?? Math.min(options.ops, 50_000));
  const perOp: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const start = process.hrtime.bigint();
    await body(options.ops);
    perOp.push(Number(process.hrtime.bigint() - start) / options.ops);
  }
  return median(perOp);
}

export function withPeer(name: string, ns: number, peer: string, peerNs: number, extra: Partial<BenchResult> = {}): BenchResult {
  return { name, ns_per_op: round(ns), peer, peer_ns_per_op: round(peerNs), ratio: Math.round((ns / peerNs) * 1000) / 1000, ...extra };
}

export function round(ns: number): number {
  return Math.round(ns * 10) / 10;
}

export function printResults(results: readonly BenchResult[]): void {
  for (const r of results) console.log(JSON.stringify(r));
  console.log('');
  const rows = results.map((r) => [
    r.name,
    `${r.ns_per_op} ns`,
    r.peer ?? '',
    r.peer_ns_per_op === undefined ? '' : `${r.peer_ns_per_op} ns`,
    r.ratio === undefined ? '' : `${r.ratio}x`,
    r.goal_ns === undefined ? '' : `${r.ns_per_op <= r.goal_ns ? 'met' : 'MISSED'} (< ${r.goal_ns} ns)`,
  ]);
  const header = ['benchmark', 'ours', 'peer', 'peer', 'ours/peer', 'goal'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === 0 || i === 2 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ').trimEnd();
  console.log(line(header));
  for (const row of rows) console.log(line(row));
  for (const r of results) if (r.note) console.log(`- ${r.name}: ${r.note}`);
}
