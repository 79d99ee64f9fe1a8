/** What every node of one workflow run shares. */
import type { Run } from '../../meter/run-types.js';
import type { Plan } from '../ir/plan.js';
import type { RunMemory } from '../memory/memory.js';
import type { Provider } from '../providers/provider.js';
import type { RunGraphOptions, SchedulerClock } from '../scheduler/index.js';
import type { ToolLookup } from '../tools/tool.js';

export interface ExecEnv {
  readonly plan: Plan;
  /** The SDK run every LLM call, tool call, step and retry is recorded on. */
  readonly run: Run;
  readonly provider: Provider;
  readonly model: string;
  readonly tools: ToolLookup;
  readonly memory: RunMemory;
  /** Where `print(...)` goes. */
  readonly print: (text: string) => void;
  /** Shared by the entry graph and every nested (-O0 call) graph. */
  readonly clock: SchedulerClock;
  /** Limits, retries and circuit breaker for every graph of the run (signal and clock are set per graph). */
  readonly graph: Omit<RunGraphOptions, 'signal' | 'clock' | 'timeoutMs'>;
  /** Failed nodes over every graph of the run (apxm's `nodes_failed`), dependents that never ran included. */
  readonly counts: { nodesFailed: number };
}
