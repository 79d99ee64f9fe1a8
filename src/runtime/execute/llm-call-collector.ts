/**
 * A sink that keeps, per run, what the `llm` section of `--emit-metrics` needs of each
 * `llm_call` event until the caller takes it: computed from the very records
 * metrics.jsonl is written from. Only the latency and the two token counts are kept (three
 * numbers, not the whole event with its ids, timestamps and labels): a run of 100,000 calls
 * held about 1.5 KB per call here until it ended. Runs that are never taken are capped so a
 * long-lived meter cannot grow without bound.
 */
import type { FlowEvent, LlmCall } from '../../model/index.js';
import type { Sink } from '../../sinks/sink.js';

/** What `--emit-metrics` reads of one LLM call. */
export type LlmCallTiming = Pick<LlmCall, 'duration_ms' | 'input_tokens' | 'output_tokens'>;

export class LlmCallCollector implements Sink {
  readonly name = 'llm-call-collector';
  readonly #byRun = new Map<string, LlmCallTiming[]>();

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
      calls.push({ duration_ms: event.duration_ms, input_tokens: event.input_tokens, output_tokens: event.output_tokens });
    }
  }

  /** The run's calls (after `meter.flush()`), removed from the collector. */
  take(runId: string): LlmCallTiming[] {
    const calls = this.#byRun.get(runId) ?? [];
    this.#byRun.delete(runId);
    return calls;
  }
}
