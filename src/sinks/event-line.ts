import type { FlowEvent, LlmCall, Retry, StepFinished, StepStarted, TokensRecorded, ToolCall } from '../model/index.js';
import { llmCallTiming, num, numOrNull, quote, quoteTs, strOrNull } from './json-text.js';
import { memoizeLast } from './memo.js';

/**
 * One events.jsonl line: the event with the same keys and values `JSON.stringify(event)`
 * would write (nulls kept), built by concatenation for the per-call kinds, which
 * are nearly all of a run's events. The rare run_started/run_finished go through
 * JSON.stringify. A test checks every kind parses back equal to the event.
 */
export function eventLine(event: FlowEvent): string {
  switch (event.kind) {
    case 'llm_call':
      return llmCall(event);
    case 'tool_call':
      return toolCall(event);
    case 'retry':
      return retry(event);
    case 'tokens':
      return tokens(event);
    case 'step_started':
      return stepStarted(event);
    case 'step_finished':
      return stepFinished(event);
    case 'run_started':
    case 'run_finished':
      return JSON.stringify(event);
    default: {
      const unreachable: never = event;
      return unreachable;
    }
  }
}

function head(kind: string, e: { run_id: string; flow_id: string; agent: string }): string {
  return '{"kind":"' + kind + '","run_id":' + quote(e.run_id) + ',"flow_id":' + quote(e.flow_id) + ',"agent":' + quote(e.agent);
}

/** `{"kind":"llm_call",…,"phase":…`: the call's identity, the same for most calls of a run. */
const llmCallHead = memoizeLast(
  (e: LlmCall) =>
    head('llm_call', e) +
    ',"step_id":' + strOrNull(e.step_id) +
    ',"provider":' + quote(e.provider) +
    ',"model":' + quote(e.model) +
    ',"phase":' + quote(e.phase),
  (a, b) =>
    a.run_id === b.run_id &&
    a.flow_id === b.flow_id &&
    a.agent === b.agent &&
    a.step_id === b.step_id &&
    a.provider === b.provider &&
    a.model === b.model &&
    a.phase === b.phase,
);

/** `,"cost_source":…,"streaming":…,"cache_hit":…,"error_type":…}`: the line's end. */
const llmCallTail = memoizeLast(
  (e: LlmCall) =>
    ',"cost_source":' + strOrNull(e.cost_source) +
    ',"streaming":' + String(e.streaming) +
    ',"cache_hit":' + String(e.cache_hit) +
    ',"error_type":' + strOrNull(e.error_type) +
    '}',
  (a, b) => a.cost_source === b.cost_source && a.streaming === b.streaming && a.cache_hit === b.cache_hit && a.error_type === b.error_type,
);

function llmCall(e: LlmCall): string {
  return (
    llmCallHead(e) +
    llmCallTiming(e) +
    ',"ttft_ms":' + numOrNull(e.ttft_ms) +
    ',"input_tokens":' + numOrNull(e.input_tokens) +
    ',"output_tokens":' + numOrNull(e.output_tokens) +
    ',"total_tokens":' + numOrNull(e.total_tokens) +
    ',"cached_input_tokens":' + numOrNull(e.cached_input_tokens) +
    ',"cost_usd":' + numOrNull(e.cost_usd) +
    llmCallTail(e)
  );
}

function toolCall(e: ToolCall): string {
  return (
    head('tool_call', e) +
    ',"step_id":' + strOrNull(e.step_id) +
    ',"tool":' + quote(e.tool) +
    ',"start_ts":' + quoteTs(e.start_ts) +
    ',"end_ts":' + quoteTs(e.end_ts) +
    ',"duration_ms":' + num(e.duration_ms) +
    ',"success":' + String(e.success) +
    // Error messages are free text: escaped exactly, never cached.
    ',"error":' + (e.error === null ? 'null' : JSON.stringify(e.error)) +
    '}'
  );
}

function retry(e: Retry): string {
  return (
    head('retry', e) +
    ',"step_id":' + strOrNull(e.step_id) +
    ',"reason":' + quote(e.reason) +
    ',"attempt":' + num(e.attempt) +
    ',"backoff_seconds":' + num(e.backoff_seconds) +
    ',"ts":' + quoteTs(e.ts) +
    '}'
  );
}

function tokens(e: TokensRecorded): string {
  return (
    head('tokens', e) +
    ',"step_id":' + strOrNull(e.step_id) +
    ',"model":' + quote(e.model) +
    ',"direction":' + quote(e.direction) +
    ',"count":' + num(e.count) +
    ',"cost_usd":' + numOrNull(e.cost_usd) +
    ',"ts":' + quoteTs(e.ts) +
    '}'
  );
}

function stepStarted(e: StepStarted): string {
  return head('step_started', e) + ',"step_id":' + quote(e.step_id) + ',"model":' + strOrNull(e.model) + ',"ts":' + quoteTs(e.ts) + '}';
}

function stepFinished(e: StepFinished): string {
  return (
    head('step_finished', e) +
    ',"step_id":' + quote(e.step_id) +
    ',"model":' + strOrNull(e.model) +
    ',"exec_mode":' + quote(e.exec_mode) +
    ',"start_ts":' + quoteTs(e.start_ts) +
    ',"end_ts":' + quoteTs(e.end_ts) +
    ',"duration_ms":' + num(e.duration_ms) +
    ',"success":' + String(e.success) +
    ',"error":' + (e.error === null ? 'null' : JSON.stringify(e.error)) +
    '}'
  );
}
