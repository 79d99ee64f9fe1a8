import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FlowEvent, LlmCall, RunFinished, TokensRecorded, ToolCall } from '../model/index.js';
import { llmCallTiming, num, optNum, optStr, quote, quoteTs } from './json-text.js';
import { memoizeLast } from './memo.js';
import type { ErrorHandler } from './report-error.js';
import { ignoreError, reportError } from './report-error.js';
import { EVENTS_FILE, eventRunId } from './event-log.js';
import { eventLine } from './event-line.js';
import { RunFiles } from './run-files.js';
import type { Sink } from './sink.js';

/**
 * Tier 2, zerg's "progressive disclosure": one folder per run under `runsDir` with
 *
 *   metrics.jsonl  one line per LLM call and tool call, zerg's schema first, our extras after
 *   run.json       the finished run's RunEvent plus its tier-1 `summary`
 *
 * zerg's users read metrics.jsonl with `jq -s` one-liners and through an agent tool, so
 * the line shape is a contract: the seed's keys keep their names and order, and a value
 * that was not measured is left out rather than written as 0.
 */
export const METRICS_FILE = 'metrics.jsonl';
export const RUN_FILE = 'run.json';

export interface JsonlSinkOptions {
  /** Parent of the run folders, e.g. `.flowmeter/runs`. Created on demand. */
  readonly runsDir: string;
  /** File-system failures (unwritable folder, full disk). Default: ignore; the meter counts them. */
  readonly onError?: ErrorHandler;
  /**
   * Also write every event to `<run>/events.jsonl` (what EventLogSink writes), in the same
   * pass: an LLM call's shared fields are then encoded once for both lines.
   */
  readonly eventLog?: boolean;
}

/** Both JsonlSink and its thread twin need the parent of the run folders. */
export function requireRunsDir(options: JsonlSinkOptions): void {
  if (typeof options.runsDir !== 'string' || options.runsDir === '') {
    throw new Error('JsonlSink needs `runsDir`, the folder that holds one folder per run (e.g. ".flowmeter/runs")');
  }
}

/** One metrics.jsonl line (without the newline), built by concatenation: no object per event. */
export function metricsLine(event: LlmCall | ToolCall | TokensRecorded): string {
  switch (event.kind) {
    case 'llm_call':
      return llmCallLine(event);
    case 'tool_call':
      return toolCallLine(event);
    case 'tokens':
      return tokensLine(event);
    default: {
      const unreachable: never = event;
      return unreachable;
    }
  }
}

/**
 * Tokens recorded outside a call (ARX's tokens_in/tokens_out). A line of its own kind, so
 * the file's token sums still equal the run's and zerg's `select(.event=="llm_call")`
 * queries are unaffected.
 */
function tokensLine(e: TokensRecorded): string {
  return (
    '{"event":"tokens","direction":' + quote(e.direction) +
    ',"model":' + quote(e.model) +
    ',"ts":' + quoteTs(e.ts) +
    ',"tokens":' + num(e.count) +
    optNum(',"cost_usd":', e.cost_usd) +
    ',"run_id":' + quote(e.run_id) +
    optStr(',"step_id":', e.step_id) +
    '}'
  );
}

/** `{"event":"llm_call","phase":…,"model":…`: zerg's first keys. */
const llmCallHead = memoizeLast(
  (e: LlmCall) => '{"event":"llm_call","phase":' + quote(e.phase) + ',"model":' + quote(e.model),
  (a, b) => a.phase === b.phase && a.model === b.model,
);

/** `,"provider":…,"run_id":…[,"step_id":…]`: the first of flowmeter's extras. */
const llmCallIds = memoizeLast(
  (e: LlmCall) => ',"provider":' + quote(e.provider) + ',"run_id":' + quote(e.run_id) + optStr(',"step_id":', e.step_id),
  (a, b) => a.provider === b.provider && a.run_id === b.run_id && a.step_id === b.step_id,
);

/** `[,"cost_source":…],"streaming":…,"cache_hit":…[,"error_type":…]}`: the line's end. */
const llmCallTail = memoizeLast(
  (e: LlmCall) =>
    optStr(',"cost_source":', e.cost_source) +
    ',"streaming":' + String(e.streaming) +
    ',"cache_hit":' + String(e.cache_hit) +
    optStr(',"error_type":', e.error_type) +
    '}',
  (a, b) => a.cost_source === b.cost_source && a.streaming === b.streaming && a.cache_hit === b.cache_hit && a.error_type === b.error_type,
);

/**
 * zerg's keys, in zerg's order (prompt/completion are its names for input/output), then
 * flowmeter's extras. The runs of keys whose values repeat from call to call are
 * remembered whole (memoizeLast); only the measurements are written per call.
 */
function llmCallLine(e: LlmCall): string {
  return (
    llmCallHead(e) +
    llmCallTiming(e) +
    optNum(',"prompt_tokens":', e.input_tokens) +
    optNum(',"completion_tokens":', e.output_tokens) +
    optNum(',"total_tokens":', e.total_tokens) +
    llmCallIds(e) +
    optNum(',"ttft_ms":', e.ttft_ms) +
    optNum(',"cached_input_tokens":', e.cached_input_tokens) +
    optNum(',"cost_usd":', e.cost_usd) +
    llmCallTail(e)
  );
}

function toolCallLine(e: ToolCall): string {
  return (
    '{"event":"tool_call","tool":' + quote(e.tool) +
    ',"start_ts":' + quoteTs(e.start_ts) +
    ',"end_ts":' + quoteTs(e.end_ts) +
    ',"duration_ms":' + num(e.duration_ms) +
    ',"success":' + String(e.success) +
    // zerg: "optional error message if success=false".
    (e.success ? '' : optStr(',"error":', e.error)) +
    ',"run_id":' + quote(e.run_id) +
    optStr(',"step_id":', e.step_id) +
    '}'
  );
}

/**
 * Appends whole lines with one synchronous write per run per batch on an fd opened
 * with the append flag. Batches arrive on the audit path after the recording call has
 * returned, so the run never waits for the disk. A crash between writes leaves complete
 * lines only; a fragment left by a kill during a write is cut off if the run's file is
 * opened again (see line-file.ts).
 */
export class JsonlSink implements Sink {
  readonly name = 'jsonl';
  private readonly files: RunFiles;
  private readonly events: RunFiles | undefined;
  private readonly onError: ErrorHandler;
  private closed = false;
  /** Per open run, `,"trace_id":…[,"parent_run_id":…]`: the run tree's ids, closing each of its lines. */
  private readonly treeIds = new Map<string, string>();

  constructor(options: JsonlSinkOptions) {
    requireRunsDir(options);
    this.onError = options.onError ?? ignoreError;
    this.files = new RunFiles(options.runsDir, METRICS_FILE, this.onError);
    if (options.eventLog === true) this.events = new RunFiles(options.runsDir, EVENTS_FILE, this.onError);
  }

  write(events: readonly FlowEvent[]): void {
    if (this.closed) {
      if (events.length > 0) reportError(this.onError, new Error(`JsonlSink is closed; dropped ${events.length} events`));
      return;
    }
    const finished: RunFinished[] = [];
    for (const event of events) {
      // One event that cannot be written (a line that fails to encode) costs that event
      // only, not the batch: the error is counted and the other events are written.
      try {
        this.take(event, finished);
      } catch (err) {
        reportError(this.onError, err);
      }
    }
    // events.jsonl first, then metrics.jsonl, then run.json: a crash (kill -9) between the
    // writes leaves events.jsonl a superset of metrics.jsonl, so `flowmeter serve`, which
    // reads events.jsonl, never counts less than the files show; and run.json still marks a
    // folder whose lines are all written.
    this.events?.writePending();
    this.files.writePending();
    for (const event of finished) this.finishRun(event);
  }

  private take(event: FlowEvent, finished: RunFinished[]): void {
    switch (event.kind) {
      case 'run_started':
        // The file exists from the start, so a run without calls still has one.
        this.files.ensureOpen(event.run.run_id);
        if (event.run.trace_id !== undefined) this.treeIds.set(event.run.run_id, optStr(',"trace_id":', event.run.trace_id) + optStr(',"parent_run_id":', event.run.parent_run_id ?? null));
        break;
      case 'llm_call':
      case 'tool_call':
      case 'tokens': {
        const line = metricsLine(event);
        const ids = this.treeIds.get(event.run_id);
        this.files.enqueue(event.run_id, ids === undefined ? line : line.slice(0, -1) + ids + '}');
        break;
      }
      case 'run_finished':
        finished.push(event);
        break;
      case 'step_started':
      case 'step_finished':
      case 'retry':
        break;
      default: {
        const unreachable: never = event;
        return unreachable;
      }
    }
    if (this.events !== undefined) this.events.enqueue(eventRunId(event), eventLine(event));
  }

  /** Writes are synchronous; there is nothing to flush. */
  flush(): void {}

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.files.closeAll();
    this.events?.closeAll();
  }

  private finishRun(event: RunFinished): void {
    const runId = event.run.run_id;
    this.treeIds.delete(runId);
    this.events?.closeRun(runId);
    if (this.files.ensureOpen(runId) === undefined) return;
    const path = join(this.files.dir(runId), RUN_FILE);
    try {
      // Write then rename: a reader never sees a half-written run.json.
      writeFileSync(path + '.tmp', JSON.stringify({ ...event.event, summary: event.summary }, null, 2) + '\n');
      renameSync(path + '.tmp', path);
    } catch (err) {
      // A full disk leaves a partial .tmp behind; it is no run.json and only takes space.
      try {
        rmSync(path + '.tmp', { force: true });
      } catch {
        // Nothing more to do: the write's own error is what gets reported.
      }
      reportError(this.onError, err);
    } finally {
      this.files.closeRun(runId);
    }
  }
}
