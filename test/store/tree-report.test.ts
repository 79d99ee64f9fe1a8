import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { Meter } from '../../src/meter/index.js';
import type { TreeReport } from '../../src/store/trees.js';
import { capture } from '../server/helpers.js';
import { PRICED_MODEL, UNPRICED_MODEL } from '../meter/fixtures.js';
import { storeMeter } from './meter-runs.js';

const dir = mkdtempSync(join(tmpdir(), 'flowmeter-trees-report-'));
const db = join(dir, 'flowmeter.db');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function spend(meter: Meter, input: number, output: number, model = PRICED_MODEL): Promise<void> {
  return meter.llmCall({ model }, (call) => call.usage({ inputTokens: input, outputTokens: output }));
}

/** Exact tree costs of the `concierge` trees made below: tree i costs 1 + 10·i + 2·i ($). */
const conciergeCosts = Array.from({ length: 20 }, (_, i) => 1 + 12 * i);

beforeAll(async () => {
  const meter = storeMeter(dir);
  for (let i = 0; i < 20; i++) {
    await meter.run({ flowId: 'concierge' }, async () => {
      await spend(meter, 1, 0); // $1
      await meter.run({ flowId: 'worker' }, async () => {
        await spend(meter, 10 * i, 0); // $10·i
        await meter.run({ flowId: 'tool-agent' }, () => spend(meter, 0, i)); // $2·i
      });
    });
  }
  // A second kind of root, one of whose trees has a child with an unknown cost.
  for (let i = 0; i < 4; i++) {
    await meter.run({ flowId: 'planner' }, async () => {
      await spend(meter, 5, 0);
      if (i === 0) await meter.run({ flowId: 'unpriced-child' }, () => spend(meter, 3, 3, UNPRICED_MODEL));
      if (i === 3) throw new Error('plan failed');
    }).catch(() => undefined);
  }
  await meter.close();
});

function exactQuantile(sorted: readonly number[], q: number): number {
  // The sketch's rank rule: the lower neighbour at rank q·(n−1).
  return sorted[Math.floor(q * (sorted.length - 1))]!;
}

describe('flowmeter report --by root', () => {
  it('groups whole run trees by their root flow with per-tree cost, tokens and time', async () => {
    const io = capture();
    expect(await main(['report', '--db', db, '--by', 'root', '--json'], io)).toBe(0);
    const report = JSON.parse(io.stdout.join('\n')) as TreeReport;
    expect(report.format).toBe('flowmeter.tree_report.v1');
    expect(report.groups.map((g) => g.root_flow)).toEqual(['concierge', 'planner']);

    const concierge = report.groups[0]!;
    expect(concierge.trees).toBe(20);
    expect(concierge.runs).toBe(60);
    expect(concierge.success_rate).toBe(1);
    expect(concierge.cost_coverage).toBe(1);
    expect(concierge.outcomes).toEqual({ success: 20 });
    for (const [q, key] of [[0.5, 'p50'], [0.95, 'p95'], [0.99, 'p99']] as const) {
      const exact = exactQuantile(conciergeCosts, q);
      expect(Math.abs(concierge.cost_per_tree_usd[key]! - exact) / exact).toBeLessThanOrEqual(0.01);
      // Tokens per tree: 1 + 10·i + i.
      const tokens = exactQuantile(Array.from({ length: 20 }, (_, i) => 1 + 11 * i), q);
      expect(Math.abs(concierge.tokens_per_tree[key]! - tokens) / tokens).toBeLessThanOrEqual(0.01);
    }
    expect(concierge.time_per_tree_seconds.p50).not.toBeNull();

    const planner = report.groups[1]!;
    expect(planner.trees).toBe(4);
    expect(planner.runs).toBe(5);
    expect(planner.success_rate).toBe(0.75);
    expect(planner.cost_coverage).toBe(0.75);
    expect(planner.outcomes).toEqual({ success: 3, tool_error: 1 });
    expect(planner.cost_per_tree_usd.p99).toBeCloseTo(5, 1);
  });

  it('keeps only trees whose root is of --flow, and prints a table', async () => {
    const io = capture();
    expect(await main(['report', '--db', db, '--by', 'root', '--flow', 'planner'], io)).toBe(0);
    const text = io.stdout.join('\n');
    expect(text).toContain('== root planner: 4 trees, 5 runs, success 75.0%, cost known for 75.0%');
    expect(text).not.toContain('root concierge');
    expect(text).toMatch(/cost\s+\$5\.00\s+\$5\.00\s+\$5\.00/);
    expect(text).toContain('outcomes success 3, tool_error 1');
  });

  it('says which dimensions there are for a wrong --by', async () => {
    const io = capture();
    expect(await main(['report', '--db', db, '--by', 'tree'], io)).toBe(2);
    expect(io.stderr.join('\n')).toContain('root');
  });
});
