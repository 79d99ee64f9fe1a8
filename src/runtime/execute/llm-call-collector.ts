/**
 * A sink that keeps each run's `llm_call` events until the caller takes them: the `llm`
 * section of `--emit-metrics` is computed from the very records metrics.jsonl is written
 * from. Runs that are never taken are capped so a long-lived meter cannot grow without bound.
 */
import type { FlowEvent, LlmCall } from '../../model/index.js';
import type { Sink } from '../../sinks/sink.js';

export class LlmCallCollector implements Sink {
  readonly name = 'llm-call-collector';
  readonly #byRun = new Map<string, LlmCall[]>();

  constructor(readonly maxRuns = 10_000) {}

  write(events: readonly FlowEvent[]): void {
    for (const event of events) {
      if (event.kind !== 'llm_call') continue;
      let calls = this.#byRun.get(event.run_id);
      if (calls === undefined) {
        if (this.#byRun.size >= this.maxRuns) {
          const oldest = this.#byRun.keys().next().value;
          if (oldest !== undefined) this.#byRun.delete(oldest);
        }
        this.#byRun.set(event.run_id, (calls = []));
      }
      calls.push(event);
    }
  }

  /** The run's calls (after `meter.flush()`), removed from the collector. */
  take(runId: string): LlmCall[] {
    const calls = this.#byRun.get(runId) ?? [];
    this.#byRun.delete(runId);
    return calls;
  }
}
