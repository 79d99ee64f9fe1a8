import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const PROBE = fileURLToPath(new URL('./fixtures/observe-allocation.ts', import.meta.url));
const LIMIT = 64 * 1024;

interface Probe {
  readonly ops: number;
  readonly ns_per_op: number;
  readonly heap_growth_bytes: number;
  readonly young_generation_bytes: number;
  readonly collections_during_loop: number;
  readonly count: number;
}

function probe(mode: 'handle' | 'labels'): Probe {
  const child = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', PROBE, mode], { encoding: 'utf8', timeout: 120_000 });
  expect(child.status, child.stderr).toBe(0);
  const result = JSON.parse(child.stdout.trim().split('\n').pop()!) as Probe;
  // Reported so the measured numbers show up in the test log.
  process.stdout.write(
    `[allocation] ${mode}: ${result.ops} observations, heap ${result.heap_growth_bytes} B after forced GC, ` +
      `young generation +${result.young_generation_bytes} B (${(result.young_generation_bytes / result.ops).toFixed(5)} B/op), ` +
      `${result.collections_during_loop} collections, ${result.ns_per_op.toFixed(1)} ns/op\n`,
  );
  return result;
}

describe('recording allocates nothing', () => {
  it.each(['handle', 'labels'] as const)('records 10M observations through %s with no heap growth and no collection', (mode) => {
    const result = probe(mode);
    expect(result.count).toBe(12_000_000);
    // Retained: the heap after forced collections is where it started.
    expect(result.heap_growth_bytes).toBeLessThan(LIMIT);
    // Allocated: 10M observations of even 8 bytes would be 80 MB and many scavenges.
    expect(result.collections_during_loop).toBe(0);
    expect(result.young_generation_bytes).toBeLessThan(LIMIT);
  });
});
