import type { FlowEvent } from '../model/index.js';
import type { ErrorHandler } from './report-error.js';
import { ignoreError, reportError } from './report-error.js';
import { eventLine } from './event-line.js';
import { RunFiles } from './run-files.js';
import type { Sink } from './sink.js';

export const EVENTS_FILE = 'events.jsonl';

export interface EventLogSinkOptions {
  readonly runsDir: string;
  readonly onError?: ErrorHandler;
}

/**
 * The audit trail: every event of a run, whole, one JSON object per line in
 * `<runsDir>/<run_id>/events.jsonl` (`{"kind":"step_finished",…}`). metrics.jsonl is
 * zerg's curated view of calls; this file is the event model itself, so another process
 * — `flowmeter serve` tailing a runs folder — can rebuild every metric from it, steps
 * and retries included.
 */
export class EventLogSink implements Sink {
  readonly name = 'events';
  private readonly files: RunFiles;
  private readonly onError: ErrorHandler;
  private closed = false;

  constructor(options: EventLogSinkOptions) {
    if (typeof options.runsDir !== 'string' || options.runsDir === '') {
      throw new Error('EventLogSink needs `runsDir`, the folder that holds one folder per run (e.g. ".flowmeter/runs")');
    }
    this.onError = options.onError ?? ignoreError;
    this.files = new RunFiles(options.runsDir, EVENTS_FILE, this.onError);
  }

  write(events: readonly FlowEvent[]): void {
    if (this.closed) {
      if (events.length > 0) reportError(this.onError, new Error(`EventLogSink is closed; dropped ${events.length} events`));
      return;
    }
    const finished: string[] = [];
    for (const event of events) {
      const runId = eventRunId(event);
      this.files.enqueue(runId, eventLine(event));
      if (event.kind === 'run_finished') finished.push(runId);
    }
    this.files.writePending();
    for (const runId of finished) this.files.closeRun(runId);
  }

  flush(): void {}

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.files.closeAll();
  }
}

export function eventRunId(event: FlowEvent): string {
  return event.kind === 'run_started' || event.kind === 'run_finished' ? event.run.run_id : event.run_id;
}
