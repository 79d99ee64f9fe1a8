/**
 * `npm run bench`: every hot operation beside its peer, in the same run. Prints one
 * JSON line per benchmark, then a table. Numbers vary by machine; the ratios are the point.
 */
import { printResults } from './harness.js';
import type { BenchResult } from './harness.js';
import { benchSdkLlmCall } from './sdk-llm-call.js';

const results: BenchResult[] = [];
results.push(...(await benchSdkLlmCall()));
results.push(...(await (await import('./prometheus-render.js')).benchPrometheusRender()));
results.push(...(await (await import('./recorder-observe.js')).benchRecorderObserve()));
printResults(results);
