import { describe, expect, it } from 'vitest';
import { copyLine, copyValue } from '../../src/store/postgres/copy-text.js';
import { callFromDb, callValues, columnBinds, pairRuns, sqlValue } from '../../src/store/rows.js';
import type { Bind } from '../../src/store/rows.js';
import { CALL_COLUMNS } from '../../src/store/schema.js';
import type { CallRow, RunRow } from '../../src/store/store.js';

const call: CallRow = {
  run_id: 'r1',
  seq: 3,
  kind: 'llm',
  step_id: 'plan',
  flow_id: 'support',
  agent: 'helper',
  app_id: 'shop',
  provider: 'openai',
  model: 'gpt-4o-mini',
  phase: 'initial',
  tool: null,
  start_ms: 1_700_000_000_000,
  end_ms: 1_700_000_000_250,
  duration_ms: 250.5,
  ttft_ms: 40.25,
  input_tokens: 1200,
  output_tokens: 300,
  total_tokens: 1500,
  cached_input_tokens: null,
  cost_usd: 0.000_36,
  cost_source: 'price_table',
  streaming: true,
  cache_hit: false,
  success: true,
  error_type: null,
  error_message: null,
  sample_rate: 1,
};

/** What the table's column list says each value binds as. */
function byColumn(row: CallRow): unknown[] {
  const { names, binds } = columnBinds(CALL_COLUMNS);
  return names.map((name, i) => sqlValue((row as unknown as Record<string, unknown>)[name], binds[i] as Bind));
}

describe('call rows', () => {
  it('bind in the order and form of CALL_COLUMNS', () => {
    expect(callValues(call)).toEqual(byColumn(call));
    const tool: CallRow = { ...call, kind: 'tool', provider: null, model: null, phase: null, tool: 'search', streaming: null, cache_hit: null, success: false, error_type: 'Timeout', error_message: 'slow', ttft_ms: null };
    expect(callValues(tool)).toEqual(byColumn(tool));
    // Every column is a distinct value here, so a swapped pair would show.
    const distinct = Object.fromEntries(CALL_COLUMNS.map((c, i) => [c.name, c.type.startsWith('bool') ? i % 2 === 0 : c.type.startsWith('text') ? `v${i}` : i + 0.5])) as unknown as CallRow;
    expect(callValues(distinct)).toEqual(byColumn(distinct));
  });

  it('bind numbers that are not finite as NULL', () => {
    const values = callValues({ ...call, cost_usd: Number.NaN, ttft_ms: Number.POSITIVE_INFINITY });
    expect(values[CALL_COLUMNS.findIndex((c) => c.name === 'cost_usd')]).toBeNull();
    expect(values[CALL_COLUMNS.findIndex((c) => c.name === 'ttft_ms')]).toBeNull();
  });

  it('read back from a database row as they were', () => {
    const row = Object.fromEntries(CALL_COLUMNS.map((c, i) => [c.name, callValues(call)[i]]));
    expect(callFromDb(row)).toMatchObject({ ...call });
  });

  it('become one COPY text line, with NULLs and escapes', () => {
    const line = copyLine(callValues)({ ...call, error_message: 'tab\there\\' });
    const fields = line.split('\t');
    expect(fields).toHaveLength(CALL_COLUMNS.length);
    expect(fields[0]).toBe('r1');
    expect(fields[CALL_COLUMNS.findIndex((c) => c.name === 'cached_input_tokens')]).toBe('\\N');
    expect(line.endsWith('tab\\there\\\\\t1')).toBe(true);
    expect(copyValue(Buffer.from([0xab]))).toBe('\\\\xab');
  });
});

const run = (id: string, status: 'running' | 'finished', extra: Partial<RunRow> = {}): RunRow =>
  ({ run_id: id, status, app_id: null, session_id: null, user_id: null, task_id: null, parent_run_id: null, trace_id: null, start_ms: 1, end_ms: status === 'finished' ? 2 : null, ...extra }) as RunRow;

describe('pairRuns', () => {
  it('merges a run that starts and ends in the batch into one row with the ids its start knew', () => {
    const paired = pairRuns([run('a', 'running', { app_id: 'shop', session_id: 's1' }), run('b', 'running')], [run('a', 'finished'), run('c', 'finished')]);
    expect(paired.starts.map((r) => r.run_id)).toEqual(['b']);
    expect(paired.ends.map((e) => [e.row.run_id, e.whole, e.row.app_id, e.row.session_id, e.row.status])).toEqual([
      ['a', true, 'shop', 's1', 'finished'],
      ['c', false, null, null, 'finished'],
    ]);
    expect(paired.repeatedStarts).toBe(0);
  });

  it('counts a start given twice as a duplicate and merges only the first end', () => {
    const paired = pairRuns([run('a', 'running'), run('a', 'running')], [run('a', 'finished'), run('a', 'finished')]);
    expect(paired.starts).toHaveLength(0);
    expect(paired.ends.map((e) => e.whole)).toEqual([true, false]);
    expect(paired.repeatedStarts).toBe(1);
  });
});
