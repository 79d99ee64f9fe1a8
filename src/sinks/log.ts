import pino from 'pino';
import type { FlowEvent, LlmCall, Retry, RunFinished, TokensRecorded, ToolCall } from '../model/index.js';
import { runEventToLogRecord } from '../model/index.js';
import type { BatchOutput, LogDestination } from './log-destination.js';
import { openLogDestination } from './log-destination.js';
import type { LogfmtValue } from './logfmt.js';
import { logfmtPair, logfmtValue } from './logfmt.js';
import type { ErrorHandler } from './report-error.js';
import { ignoreError, reportError } from './report-error.js';
import { memoizeLast } from './memo.js';
import type { Sink } from './sink.js';

/**
 * Tier 3, zerg's "dev telemetry": one grep-able line per completed call, in logfmt
 *
 *   2025-12-15T03:19:33.123Z INFO llm_call_complete phase=initial model=gpt-4o duration_ms=111 run_id=r1 ...
 *   2025-12-15T03:19:34.456Z WARN tool_call_complete tool=ssh_exec duration_ms=1234 success=false run_id=r1 ... error="exit 1"
 *   2025-12-15T03:19:34.500Z WARN retry reason=rate_limit attempt=1 backoff_seconds=0.5 run_id=r1 flow_id=f step_id=s
 *   {"type":"flowmeter.run_event.v1","run_id":"r1",...}
 *
 * or, with `format: 'json'`, as pino records whose `msg` is the same message word. The
 * message word is followed directly by the pairs, so zerg's `grep llm_call_complete`,
 * `grep "success=false"` and `grep -o "model=[^ ]*"` keep working (booleans are
 * lowercase here, where zerg's Python printed `True`/`False`). The timestamp is the
 * event's own (a call's end_ts), not the time the audit path got to it.
 *
 * The run's end is one pure-JSON line with no prefix, so
 * `grep flowmeter.run_event.v1 app.log | jq .` reads it back (in json format: a pino
 * record with `msg: "run.summary"` and the same fields, `type` included).
 */
export type LogFormat = 'logfmt' | 'json';

export interface LogSinkOptions {
  /** Default `logfmt`. */
  readonly format?: LogFormat;
  /** Default `stderr`. */
  readonly destination?: LogDestination;
  /** Write failures (unwritable log file, closed pipe). Default: ignore; the meter counts them. */
  readonly onError?: ErrorHandler;
  /** Clock for an event that carries no timestamp of its own. Default: `new Date()`. */
  readonly now?: () => Date;
}

type Put = (key: string, value: LogfmtValue) => void;

// One field list per event kind, shared by both formats, so logfmt and JSON never drift.
function llmCallFields(e: LlmCall, put: Put): void {
  put('phase', e.phase);
  put('model', e.model);
  put('duration_ms', e.duration_ms);
  put('run_id', e.run_id);
  put('prompt_tokens', e.input_tokens);
  put('completion_tokens', e.output_tokens);
  put('total_tokens', e.total_tokens);
  put('provider', e.provider);
  put('flow_id', e.flow_id);
  put('step_id', e.step_id);
  put('cost_usd', e.cost_usd);
  put('ttft_ms', e.ttft_ms);
  put('error_type', e.error_type);
}

/** ` phase=… model=… duration_ms=`: the first pairs, the same for most calls of a run. */
const llmCallHead = memoizeLast(
  (e: LlmCall) => ' phase=' + logfmtValue(e.phase) + ' model=' + logfmtValue(e.model) + ' duration_ms=',
  (a, b) => a.phase === b.phase && a.model === b.model,
);

/** ` run_id=…`. */
const llmCallRun = memoizeLast(
  (e: LlmCall) => ' run_id=' + logfmtValue(e.run_id),
  (a, b) => a.run_id === b.run_id,
);

/** ` provider=… flow_id=…[ step_id=…]`. */
const llmCallPlace = memoizeLast(
  (e: LlmCall) => ' provider=' + logfmtValue(e.provider) + ' flow_id=' + logfmtValue(e.flow_id) + (e.step_id === null ? '' : ' step_id=' + logfmtValue(e.step_id)),
  (a, b) => a.provider === b.provider && a.flow_id === b.flow_id && a.step_id === b.step_id,
);

/**
 * `llmCallFields` as one logfmt string without a callback per field: an LLM call is most
 * of a run's lines. The pairs whose values repeat from call to call are remembered whole
 * (memoizeLast). A test checks it matches the generic path field for field.
 */
export function llmCallLogfmt(e: LlmCall): string {
  return (
    llmCallHead(e) +
    String(e.duration_ms) +
    llmCallRun(e) +
    (e.input_tokens === null ? '' : ' prompt_tokens=' + String(e.input_tokens)) +
    (e.output_tokens === null ? '' : ' completion_tokens=' + String(e.output_tokens)) +
    (e.total_tokens === null ? '' : ' total_tokens=' + String(e.total_tokens)) +
    llmCallPlace(e) +
    (e.cost_usd === null ? '' : ' cost_usd=' + String(e.cost_usd)) +
    (e.ttft_ms === null ? '' : ' ttft_ms=' + String(e.ttft_ms)) +
    (e.error_type === null ? '' : ' error_type=' + logfmtValue(e.error_type))
  );
}

/** The generic field walk for an LLM call, as logfmt (what llmCallLogfmt must equal). */
export function llmCallLogfmtGeneric(e: LlmCall): string {
  let line = '';
  llmCallFields(e, (key, value) => {
    line += logfmtPair(key, value);
  });
  return line;
}

function toolCallFields(e: ToolCall, put: Put): void {
  put('tool', e.tool);
  put('duration_ms', e.duration_ms);
  put('success', e.success);
  put('run_id', e.run_id);
  put('flow_id', e.flow_id);
  put('step_id', e.step_id);
  // zerg: "error message (optional, only if success=false)".
  if (!e.success) put('error', e.error);
}

function retryFields(e: Retry, put: Put): void {
  put('reason', e.reason);
  put('attempt', e.attempt);
  put('backoff_seconds', e.backoff_seconds);
  put('run_id', e.run_id);
  put('flow_id', e.flow_id);
  put('step_id', e.step_id);
}

/** `tokens_recorded direction=in model=gpt-4 tokens=1500 …`: ARX's tokens_in/out outside a call. */
function tokensFields(e: TokensRecorded, put: Put): void {
  put('direction', e.direction);
  put('model', e.model);
  put('tokens', e.count);
  put('run_id', e.run_id);
  put('flow_id', e.flow_id);
  put('step_id', e.step_id);
  put('cost_usd', e.cost_usd);
}

type Level = 'INFO' | 'WARN';

export class LogSink implements Sink {
  readonly name = 'log';
  private readonly output: BatchOutput;
  private readonly onError: ErrorHandler;
  private readonly now: () => Date;
  /** The batch being built; written with one call at the end of write(). */
  private batch = '';
  /** JSON format only: pino serializes into `batch`, stamped with `time`. */
  private readonly logger: pino.Logger | undefined;
  private time = '';
  private record: Record<string, string | number | boolean> = {};
  private closed = false;

  constructor(options: LogSinkOptions = {}) {
    const format = options.format ?? 'logfmt';
    if (format !== 'logfmt' && format !== 'json') {
      throw new Error(`LogSink \`format\` must be 'logfmt' or 'json', got ${JSON.stringify(format)}`);
    }
    this.output = openLogDestination(options.destination ?? 'stderr');
    this.onError = options.onError ?? ignoreError;
    this.now = options.now ?? (() => new Date());
    this.logger =
      format === 'json'
        ? pino(
            // No pid/hostname: the line carries run identity instead. The time is the event's.
            { base: null, timestamp: () => ',"time":' + JSON.stringify(this.time) },
            { write: (line: string) => void (this.batch += line) },
          )
        : undefined;
  }

  write(events: readonly FlowEvent[]): void {
    if (this.closed) {
      if (events.length > 0) reportError(this.onError, new Error(`LogSink is closed; dropped ${events.length} events`));
      return;
    }
    for (const event of events) {
      const mark = this.batch.length;
      try {
        this.take(event);
      } catch (err) {
        // One event that cannot be written costs that event only: its part line is taken back.
        this.batch = this.batch.slice(0, mark);
        reportError(this.onError, err);
      }
    }
    if (this.batch !== '') this.writeBatch();
  }

  private take(event: FlowEvent): void {
    switch (event.kind) {
      case 'llm_call':
        if (this.logger === undefined && event.end_ts !== '') {
          // The most frequent line, built in one expression (see llmCallLogfmt).
          this.batch += event.end_ts + (event.error_type === null ? ' INFO llm_call_complete' : ' WARN llm_call_complete') + llmCallLogfmt(event) + '\n';
        } else {
          this.emit(event.end_ts, event.error_type === null ? 'INFO' : 'WARN', 'llm_call_complete', event, llmCallFields);
        }
        break;
      case 'tool_call':
        this.emit(event.end_ts, event.success ? 'INFO' : 'WARN', 'tool_call_complete', event, toolCallFields);
        break;
      case 'retry':
        this.emit(event.ts, 'WARN', 'retry', event, retryFields);
        break;
      case 'tokens':
        this.emit(event.ts, 'INFO', 'tokens_recorded', event, tokensFields);
        break;
      case 'run_finished':
        this.emitRunEvent(event);
        break;
      case 'run_started':
      case 'step_started':
      case 'step_finished':
        break;
      default: {
        const unreachable: never = event;
        return unreachable;
      }
    }
  }

  private writeBatch(): void {
    const text = this.batch;
    this.batch = '';
    try {
      this.output.write(text);
    } catch (err) {
      reportError(this.onError, err);
    }
  }

  /** Each write() ends with its batch written; there is nothing buffered between calls. */
  flush(): void {
    this.logger?.flush();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.logger?.flush();
    try {
      this.output.close();
    } catch (err) {
      reportError(this.onError, err);
    }
  }

  private emit<E>(ts: string, level: Level, message: string, event: E, fields: (e: E, put: Put) => void): void {
    const time = ts !== '' ? ts : this.now().toISOString();
    if (this.logger === undefined) {
      this.batch += time + ' ' + level + ' ' + message;
      fields(event, this.putLogfmt);
      this.batch += '\n';
      return;
    }
    this.time = time;
    this.record = { event: message };
    fields(event, this.putJson);
    if (level === 'WARN') this.logger.warn(this.record, message);
    else this.logger.info(this.record, message);
  }

  private emitRunEvent(event: RunFinished): void {
    const record = runEventToLogRecord(event.event);
    if (this.logger === undefined) {
      this.batch += JSON.stringify(record) + '\n';
      return;
    }
    this.time = event.ts !== '' ? event.ts : this.now().toISOString();
    this.logger.info(record, 'run.summary');
  }

  // Arrow properties: bound once, so passing them per event allocates nothing.
  private readonly putLogfmt: Put = (key, value) => {
    this.batch += logfmtPair(key, value);
  };

  private readonly putJson: Put = (key, value) => {
    if (value !== null && value !== undefined) this.record[key] = value;
  };
}
