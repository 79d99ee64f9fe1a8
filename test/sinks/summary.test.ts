import { describe, expect, it } from 'vitest';
import { formatCostUsd, formatDurationMs, formatSummary, SummarySink } from '../../src/sinks/index.js';
import { llmCall, runEvent, runFinished, runStarted } from './fixtures.js';

describe('formatDurationMs', () => {
  it.each([
    [98.4, '98ms'],
    [10, '10ms'],
    [19500.6, '19501ms'],
    [9.97, '10ms'],
    [4.21, '4.2ms'],
    [1, '1.0ms'],
    [0.42, '0.42ms'],
    [0.4249, '0.42ms'],
    [0.5, '0.5ms'],
    [0.0031, '0.0031ms'],
    [0.001, '0.001ms'],
    [0.0009, '<0.001ms'],
    [0, '<0.001ms'],
  ])('formats %s ms as %s', (ms, text) => {
    expect(formatDurationMs(ms)).toBe(text);
  });

  it('never prints 0ms for a run that took time', () => {
    for (const ms of [1e-9, 0.0004, 0.3, 0.49, 0.9]) expect(formatDurationMs(ms)).not.toBe('0ms');
  });

  it('says n/a for a duration that is not a number', () => {
    expect(formatDurationMs(Number.NaN)).toBe('n/a');
    expect(formatDurationMs(-1)).toBe('n/a');
  });
});

describe('formatCostUsd', () => {
  it.each([
    [0.0023, '$0.0023'],
    [0.0000123, '$0.0000123'],
    [0.00000012345, '$0.0000001235'],
    [12.3456, '$12.35'],
    [1234.56, '$1235'],
    [123456.7, '$123457'],
    [0.1, '$0.1'],
    [0, '$0'],
  ])('formats %s as %s without exponent notation', (usd, text) => {
    expect(formatCostUsd(usd)).toBe(text);
    expect(text).not.toMatch(/e/i);
  });
});

describe('formatSummary', () => {
  it('starts with zerg\'s tier-1 line and adds tokens, cost and outcome', () => {
    expect(formatSummary(runEvent())).toBe(
      'Execution time: 98ms | tokens: 1323 (in 1234, out 89) | cost: $0.0023 | outcome: success',
    );
  });

  it('uses elapsed_seconds for sub-millisecond runs', () => {
    const line = formatSummary(runEvent({ elapsed_seconds: 0.00042 }));
    expect(line.startsWith('Execution time: 0.42ms | ')).toBe(true);
  });

  it('leaves out tokens and cost that were not measured', () => {
    const line = formatSummary(
      runEvent({ input_tokens: null, output_tokens: null, total_tokens: null, cost_usd: null, outcome: 'timeout' }),
    );
    expect(line).toBe('Execution time: 98ms | outcome: timeout');
  });

  it('derives the total from input and output when only those are known', () => {
    expect(formatSummary(runEvent({ total_tokens: null, cost_usd: null }))).toBe(
      'Execution time: 98ms | tokens: 1323 (in 1234, out 89) | outcome: success',
    );
  });

  it('shows a lone known side without inventing a total', () => {
    expect(formatSummary(runEvent({ output_tokens: null, total_tokens: null, cost_usd: null }))).toBe(
      'Execution time: 98ms | tokens: in 1234 | outcome: success',
    );
  });

  it('adds retries and exceeded limits only when there are some', () => {
    const line = formatSummary(
      runEvent({ retries: 2, limits_exceeded: ['max_tokens', 'max_cost_usd'], outcome: 'budget_exceeded' }),
    );
    expect(line).toBe(
      'Execution time: 98ms | tokens: 1323 (in 1234, out 89) | cost: $0.0023 | outcome: budget_exceeded' +
        ' | retries: 2 | limits: max_tokens,max_cost_usd',
    );
    expect(formatSummary(runEvent())).not.toContain('retries');
    expect(formatSummary(runEvent())).not.toContain('limits');
  });
});

describe('SummarySink', () => {
  it('writes each finished run\'s summary as one line and ignores other events', () => {
    const chunks: string[] = [];
    const sink = new SummarySink({ out: { write: (chunk: string) => chunks.push(chunk) } });
    sink.write([runStarted('a'), llmCall({ run_id: 'a' }), runFinished('a'), runFinished('b')]);
    expect(chunks).toEqual(['Execution time: 98ms | outcome: success\n', 'Execution time: 98ms | outcome: success\n']);
  });

  it('hands the summary and the event to a callback', () => {
    const seen: string[] = [];
    const sink = new SummarySink({ onSummary: (summary, event) => seen.push(`${event.run.run_id}: ${summary}`) });
    sink.write([runFinished('a')]);
    expect(seen).toEqual(['a: Execution time: 98ms | outcome: success']);
  });

  it('reports a failing callback through onError instead of throwing', () => {
    const errors: unknown[] = [];
    const sink = new SummarySink({
      onSummary: () => {
        throw new Error('boom');
      },
      onError: (err) => errors.push(err),
    });
    expect(() => sink.write([runFinished('a')])).not.toThrow();
    expect(errors).toHaveLength(1);
  });

  it('refuses to be built without anywhere to write', () => {
    expect(() => new SummarySink({})).toThrow(/onSummary.*out/);
  });
});
