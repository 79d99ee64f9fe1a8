/**
 * `flowmeter compile --emit dot` is read by Graphviz itself: every example at both levels
 * renders to SVG with no error or warning, and the SVG has a node per plan node.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compilePlan } from '../../src/runtime/ir/compile-plan.js';
import { emitPlan } from '../../src/runtime/ir/emit.js';

const DOT = spawnSync('sh', ['-c', 'command -v dot'], { encoding: 'utf8' }).stdout.trim();
const inCi = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== '0' && process.env.CI !== 'false';
// In CI a missing `dot` fails these tests (scripts/ci-deps.sh installs it); elsewhere they are skipped.
const skip = DOT === '' && !inCi;
const examples = join(import.meta.dirname, '..', '..', 'examples', 'workflows');

describe.skipIf(skip)(`Graphviz reads --emit dot${skip ? ' (skipped: graphviz is not installed; run scripts/ci-deps.sh)' : ''}`, () => {
  for (const file of readdirSync(examples).filter((f) => f.endsWith('.ais'))) {
    for (const level of ['O0', 'O1'] as const) {
      it(`${file} -${level}`, () => {
        const path = join(examples, file);
        const { plan } = compilePlan(path, readFileSync(path, 'utf8'), level, 'test');
        expect(plan).toBeDefined();
        const r = spawnSync(DOT || 'dot', ['-Tsvg'], { input: emitPlan(plan!, 'dot'), encoding: 'utf8' });
        expect(r.error).toBeUndefined();
        expect(r.stderr).toBe('');
        expect(r.status).toBe(0);
        const nodes = Object.values(plan!.flows).reduce((a, f) => a + f.nodes.length, 0);
        expect((r.stdout.match(/class="node"/g) ?? []).length).toBeGreaterThanOrEqual(nodes);
      });
    }
  }
});
