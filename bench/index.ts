/**
 * `npm run bench`: every hot operation beside its peer, in the same run. Prints one
 * JSON line per benchmark, then a table. Numbers vary by machine; the ratios are the point.
 *
 * Each group runs in a fresh process, so one group's heap, JIT state and async hooks
 * (the SDK's AsyncLocalStorage turns promise hooks on process-wide) cannot tilt another's.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { printResults } from './harness.js';
import type { BenchResult } from './harness.js';

const GROUPS = ['sdk-llm-call', 'recorder-observe', 'prometheus-render', 'scheduler-dag', 'compile', 'store-ingest', 'store-query', 'proxy-overhead'] as const;
type Group = (typeof GROUPS)[number];

async function runGroup(group: Group): Promise<BenchResult[]> {
  switch (group) {
    case 'sdk-llm-call':
      return (await import('./sdk-llm-call.js')).benchSdkLlmCall();
    case 'recorder-observe':
      return (await import('./recorder-observe.js')).benchRecorderObserve();
    case 'prometheus-render':
      return (await import('./prometheus-render.js')).benchPrometheusRender();
    case 'scheduler-dag':
      return (await import('./scheduler-dag.js')).benchSchedulerDag();
    case 'compile':
      return (await import('./compile.js')).benchCompile();
    case 'store-ingest':
      return (await import('./store-ingest.js')).benchStoreIngest();
    case 'store-query':
      return (await import('./store-query.js')).benchStoreQuery();
    case 'proxy-overhead':
      return (await import('./proxy-overhead.js')).benchProxyOverhead();
    default: {
      const unreachable: never = group;
      return unreachable;
    }
  }
}

const only = process.argv[2] as Group | undefined;
if (only !== undefined && !(GROUPS as readonly string[]).includes(only)) {
  throw new Error(`unknown bench group ${only}; one of ${GROUPS.join(', ')}`);
} else if (only !== undefined && process.argv[3] === '--print') {
  // One group on its own: `npm run bench -- store-ingest --print`.
  printResults(await runGroup(only));
} else if (only !== undefined) {
  // Child: one group, results as JSON on the last line of stdout.
  console.log(JSON.stringify(await runGroup(only)));
} else {
  const results: BenchResult[] = [];
  for (const group of GROUPS) {
    const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), group], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    if (child.status !== 0) throw new Error(`bench group ${group} failed with exit code ${String(child.status)}`);
    const last = child.stdout.trimEnd().split('\n').at(-1) ?? '[]';
    results.push(...(JSON.parse(last) as BenchResult[]));
  }
  printResults(results);
}
