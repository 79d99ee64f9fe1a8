import { StatsD } from 'hot-shots';
import type { FlowEvent, LlmCall, Retry, RunFinished, StepFinished, TokensRecorded, ToolCall } from '../model/index.js';
import { invalidNonNegative } from '../model/index.js';
import type { ErrorHandler } from '../sinks/report-error.js';
import { ignoreError, reportError, writeEach } from '../sinks/report-error.js';
import type { Sink } from '../sinks/sink.js';

export interface StatsdExporterOptions {
  /** DogStatsD agent host. Default: DD_AGENT_HOST, else 127.0.0.1. */
  readonly host?: string;
  /** DogStatsD UDP port. Default: DD_DOGSTATSD_PORT, else 8125. */
  readonly port?: number;
  /** Put before every metric name. Default `flowmeter.`. */
  readonly prefix?: string;
  /** Tags on every metric, e.g. `{ env: 'prod' }`. hot-shots also adds DD_ENV, DD_SERVICE and DD_VERSION. */
  readonly globalTags?: Readonly<Record<string, string>>;
  /**
   * Lines are packed into datagrams of at most this many bytes and sent on `flush()`, on
   * `close()` or every `bufferFlushIntervalMillis`. 0 sends one datagram per metric.
   * Default 1432, Datadog's advice for UDP (an Ethernet MTU less IP and UDP headers).
   */
  readonly maxBufferSize?: number;
  /** Default 1000. */
  readonly bufferFlushIntervalMillis?: number;
  /** Where DD_AGENT_HOST and DD_DOGSTATSD_PORT are read. Default: process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Socket and DNS errors. Default: ignore; the meter counts them. */
  readonly onError?: ErrorHandler;
}

type Tags = Record<string, string>;

/**
 * Sends DogStatsD for Datadog users, through hot-shots:
 *
 *   llm_call      llm.request.duration (ms timing), llm.time_to_first_token (ms timing, streamed calls),
 *                 llm.tokens (count, direction:in|out), llm.cost_usd (distribution)
 *   tokens        llm.tokens (count, direction:in|out)
 *   tool_call     tool.duration (ms timing)
 *   step_finished step.duration (ms timing; ARX's ar_step_latency_ms)
 *   retry         retries (count, reason)
 *   run_finished  runs (count, outcome), run.elapsed_seconds, run.cost_usd, run.total_tokens (distributions)
 *
 * Tags are names only (provider, model, phase, flow, agent, step, tool, outcome, error class):
 * never run, task, user or session ids, and never a free-form error message, since every
 * distinct tag value is a new Datadog custom metric. UDP is fire-and-forget: a missing
 * agent costs nothing, and socket errors go to `onError`.
 */
export class StatsdExporter implements Sink {
  readonly name = 'statsd';
  readonly host: string;
  readonly port: number;
  private readonly client: StatsD;
  private readonly onError: ErrorHandler;
  private closing: Promise<void> | null = null;

  constructor(options: StatsdExporterOptions = {}) {
    const env = options.env ?? process.env;
    this.host = options.host ?? nonEmpty(env['DD_AGENT_HOST']) ?? '127.0.0.1';
    this.port = options.port ?? envPort(env['DD_DOGSTATSD_PORT']) ?? 8125;
    if (!Number.isInteger(this.port) || this.port <= 0 || this.port > 65535) {
      throw new Error(`StatsdExporter: port must be an integer from 1 to 65535, got ${String(this.port)}`);
    }
    this.onError = options.onError ?? ignoreError;
    const globalTags: Tags = {};
    for (const [key, value] of Object.entries(options.globalTags ?? {})) globalTags[tagKey(key)] = tagValue(value);
    this.client = new StatsD({
      host: this.host,
      port: this.port,
      protocol: 'udp',
      prefix: options.prefix ?? 'flowmeter.',
      globalTags,
      maxBufferSize: options.maxBufferSize ?? 1432,
      bufferFlushInterval: options.bufferFlushIntervalMillis ?? 1000,
      errorHandler: (err: Error) => reportError(this.onError, err),
    });
  }

  write(events: readonly FlowEvent[]): void {
    writeEach(events, this.closing === null ? null : 'StatsdExporter', this.onError, (event) => this.send(event));
  }

  /** Sends the packed lines now; resolves once they are handed to the socket. */
  flush(): Promise<void> {
    if (this.closing !== null) return this.closing;
    return new Promise((resolve) => {
      try {
        this.client.flush((err) => {
          if (err) reportError(this.onError, err);
          resolve();
        });
      } catch (err) {
        reportError(this.onError, err);
        resolve();
      }
    });
  }

  /** Sends what is buffered and closes the socket. A second call returns the first call's promise. */
  close(): Promise<void> {
    this.closing ??= new Promise((resolve) => {
      try {
        this.client.close((err) => {
          if (err) reportError(this.onError, err);
          resolve();
        });
      } catch (err) {
        reportError(this.onError, err);
        resolve();
      }
    });
    return this.closing;
  }

  private send(event: FlowEvent): void {
    switch (event.kind) {
      case 'llm_call':
        this.llmCall(event);
        break;
      case 'tool_call':
        this.toolCall(event);
        break;
      case 'step_finished':
        this.stepFinished(event);
        break;
      case 'retry':
        this.retry(event);
        break;
      case 'tokens':
        this.tokens(event);
        break;
      case 'run_finished':
        this.runFinished(event);
        break;
      // Starts carry no measurement; the finish events hold the durations.
      case 'run_started':
      case 'step_started':
        break;
      default: {
        const unreachable: never = event;
        return unreachable;
      }
    }
  }

  private llmCall(e: LlmCall): void {
    const tags = nameTags({ provider: e.provider, model: e.model, phase: e.phase, flow: e.flow_id, agent: e.agent });
    const timed = e.error_type === null ? tags : { ...tags, error_type: tagValue(e.error_type) };
    if (usable(e.duration_ms)) this.client.timing('llm.request.duration', e.duration_ms, timed);
    if (e.streaming && usable(e.ttft_ms)) this.client.timing('llm.time_to_first_token', e.ttft_ms, tags);
    if (usable(e.input_tokens) && e.input_tokens > 0) this.client.increment('llm.tokens', e.input_tokens, { ...tags, direction: 'in' });
    if (usable(e.output_tokens) && e.output_tokens > 0) this.client.increment('llm.tokens', e.output_tokens, { ...tags, direction: 'out' });
    if (usable(e.cost_usd)) this.client.distribution('llm.cost_usd', e.cost_usd, tags);
  }

  private toolCall(e: ToolCall): void {
    // ToolCall.error is a message, so only success goes in the tags.
    const tags = nameTags({ tool: e.tool, flow: e.flow_id, agent: e.agent });
    tags['success'] = String(e.success);
    if (usable(e.duration_ms)) this.client.timing('tool.duration', e.duration_ms, tags);
  }

  private stepFinished(e: StepFinished): void {
    // ARX labels steps by flow_id and step_id: names from the flow's definition, not per run.
    const tags = nameTags({ flow: e.flow_id, step: e.step_id, agent: e.agent });
    tags['success'] = String(e.success);
    if (e.error !== null) tags['error_type'] = tagValue(e.error);
    if (usable(e.duration_ms)) this.client.timing('step.duration', e.duration_ms, tags);
  }

  /** Tokens spent outside an llmCall join the same llm.tokens count, so totals match the RunEvent. */
  private tokens(e: TokensRecorded): void {
    if (!usable(e.count) || e.count === 0) return;
    this.client.increment('llm.tokens', e.count, nameTags({ model: e.model, flow: e.flow_id, agent: e.agent, direction: e.direction }));
  }

  private retry(e: Retry): void {
    this.client.increment('retries', 1, nameTags({ reason: e.reason, flow: e.flow_id, agent: e.agent }));
  }

  private runFinished(e: RunFinished): void {
    const run = e.event;
    const tags = nameTags({ outcome: run.outcome, flow: run.flow_id, agent: run.agent });
    this.client.increment('runs', 1, tags);
    if (usable(run.elapsed_seconds)) this.client.distribution('run.elapsed_seconds', run.elapsed_seconds, tags);
    if (usable(run.cost_usd)) this.client.distribution('run.cost_usd', run.cost_usd, tags);
    if (usable(run.total_tokens)) this.client.distribution('run.total_tokens', run.total_tokens, tags);
  }
}

function nameTags(named: Readonly<Record<string, string>>): Tags {
  const tags: Tags = {};
  for (const [key, value] of Object.entries(named)) tags[key] = tagValue(value);
  return tags;
}

/**
 * Datadog's tag rules: letters, digits, `_ - : . /`, at most 200 characters (it lowercases
 * on intake). Anything else becomes `_` so a value can never break the DogStatsD line
 * (`|`, `,`, `#`, newlines); an empty value becomes `none`.
 */
export function tagValue(value: string): string {
  const clean = value.replace(/[^A-Za-z0-9_\-:./]/g, '_').slice(0, 200);
  return clean === '' ? 'none' : clean;
}

function tagKey(key: string): string {
  return tagValue(key).replace(/:/g, '_');
}

/** A measured, finite, non-negative number; a null (not measured) or a bad value is not sent. */
function usable(value: number | null): value is number {
  return value !== null && invalidNonNegative(value) === null;
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}

function envPort(raw: string | undefined): number | undefined {
  const text = nonEmpty(raw);
  if (text === undefined) return undefined;
  const port = Number(text);
  // A bad environment value falls back to the default rather than stopping the app.
  return Number.isInteger(port) && port > 0 && port <= 65535 ? port : undefined;
}
