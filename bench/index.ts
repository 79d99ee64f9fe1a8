/**
 * `npm run bench`: every hot operation beside its peer, in the same run. Prints one
 * JSON line per benchmark, then a table. Numbers vary by machine; the ratios are the point.
 */
import { printResults } from './harness.js';
import type { BenchResult } from './harness.js';
import { benchPrometheusRender } from './prometheus-render.js';
import { benchRecorderObserve } from './recorder-observe.js';
import { benchSdkLlmCall } from './sdk-llm-call.js';

const results: BenchResult[] = [];
results.push(...(await benchSdkLlmCall()));
results.push(...(await benchRecorderObserve()));
results.push(...(await benchPrometheusRender()));
printResults(results);
