import type { FlowEvent, RunEvent, RunFinished } from '../model/index.js';
import type { Sink } from './sink.js';
import type { ErrorHandler } from './report-error.js';
import { ignoreError, reportError } from './report-error.js';

/**
 * Tier 1, zerg's "always visible" line: `Execution time: 98ms`, appended to the
 * result an agent reads. zerg rounded to whole milliseconds and its own troubleshooting
 * section admits fast runs then show `0ms`; we keep significant digits instead, so a
 * run that took time never reads as instantaneous.
 */
export function formatDurationMs(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return 'n/a';
  // 9.96 would print as "10.0" with one decimal; it belongs to the integer range.
  if (ms >= 9.95) return String(Math.round(ms)) + 'ms';
  if (ms >= 1) return ms.toFixed(1) + 'ms';
  if (ms >= 0.001) return trimZeros(ms.toPrecision(2)) + 'ms';
  return '<0.001ms';
}

/** Four significant digits, never exponent notation: `$0.0023`, `$0.0000123`, `$12.35`. */
export function formatCostUsd(usd: number): string {
  if (!Number.isFinite(usd)) return 'n/a';
  if (usd === 0) return '$0';
  const magnitude = Math.floor(Math.log10(Math.abs(usd)));
  // toFixed never switches to exponent notation below 1e21, unlike toPrecision.
  const decimals = Math.min(100, Math.max(0, 3 - magnitude));
  return '$' + trimZeros(usd.toFixed(decimals));
}

/**
 * `Execution time: 98ms | tokens: 1323 (in 1234, out 89) | cost: $0.0023 | outcome: success`,
 * then `| retries: N` and `| limits: a,b` when there is something to say. Tokens and cost
 * appear only when measured: an unknown is left out, never shown as zero.
 */
export function formatSummary(event: RunEvent): string {
  let line = 'Execution time: ' + formatDurationMs(event.elapsed_seconds * 1000);
  line += tokensPart(event.input_tokens, event.output_tokens, event.total_tokens);
  if (event.cost_usd !== null && Number.isFinite(event.cost_usd)) line += ' | cost: ' + formatCostUsd(event.cost_usd);
  line += ' | outcome: ' + event.outcome;
  if (event.retries > 0) line += ' | retries: ' + String(event.retries);
  if (event.limits_exceeded.length > 0) line += ' | limits: ' + event.limits_exceeded.join(',');
  if (event.child_runs !== undefined && event.child_runs > 0) line += treePart(event.child_runs, event.tree_total_tokens ?? null, event.tree_cost_usd ?? null);
  return line;
}

/** With the runs below it: `| tree: 3 child runs, tokens 4100, cost $0.0123`. */
function treePart(children: number, tokens: number | null, cost: number | null): string {
  let part = ' | tree: ' + String(children) + (children === 1 ? ' child run' : ' child runs');
  if (tokens !== null) part += ', tokens ' + String(tokens);
  if (cost !== null && Number.isFinite(cost)) part += ', cost ' + formatCostUsd(cost);
  return part;
}

function tokensPart(input: number | null, output: number | null, total: number | null): string {
  const sum = total ?? (input !== null && output !== null ? input + output : null);
  if (sum === null) {
    // At most one side is known: say which, rather than inventing a total.
    if (input !== null) return ' | tokens: in ' + String(input);
    if (output !== null) return ' | tokens: out ' + String(output);
    return '';
  }
  let part = ' | tokens: ' + String(sum);
  if (input !== null && output !== null) part += ' (in ' + String(input) + ', out ' + String(output) + ')';
  else if (input !== null) part += ' (in ' + String(input) + ')';
  else if (output !== null) part += ' (out ' + String(output) + ')';
  return part;
}

function trimZeros(fixed: string): string {
  return fixed.includes('.') ? fixed.replace(/\.?0+$/, '') : fixed;
}

export interface SummarySinkOptions {
  /** Receives each finished run's tier-1 line. */
  readonly onSummary?: (summary: string, event: RunFinished) => void;
  /** Or: a writable (e.g. `process.stdout`) that gets each line plus `\n`. */
  readonly out?: { write(chunk: string): unknown };
  /** Failures of `onSummary` or `out.write`; the meter counts them. Default: ignore. */
  readonly onError?: (err: unknown) => void;
}

/** Hands each `run_finished` event's `summary` to a callback or a writable, one line per run. */
export class SummarySink implements Sink {
  readonly name = 'summary';
  private readonly onSummary: ((summary: string, event: RunFinished) => void) | undefined;
  private readonly out: { write(chunk: string): unknown } | undefined;
  private readonly onError: ErrorHandler;

  constructor(options: SummarySinkOptions) {
    if (options.onSummary === undefined && options.out === undefined) {
      throw new Error('SummarySink needs `onSummary` (a callback) or `out` (e.g. process.stdout)');
    }
    this.onSummary = options.onSummary;
    this.out = options.out;
    this.onError = options.onError ?? ignoreError;
  }

  write(events: readonly FlowEvent[]): void {
    for (const event of events) {
      switch (event.kind) {
        case 'run_finished':
          this.emit(event);
          break;
        case 'run_started':
        case 'step_started':
        case 'step_finished':
        case 'llm_call':
        case 'tool_call':
        case 'retry':
        case 'tokens':
          break;
        default: {
          const unreachable: never = event;
          return unreachable;
        }
      }
    }
  }

  private emit(event: RunFinished): void {
    try {
      this.onSummary?.(event.summary, event);
      this.out?.write(event.summary + '\n');
    } catch (err) {
      reportError(this.onError, err);
    }
  }
}
