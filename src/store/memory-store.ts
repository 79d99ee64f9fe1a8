import type { CallCell, RunCell } from './rollup.js';
import { CallAgg, RollupDelta, RunAgg, latencyColumns } from './rollup.js';
import { decodeCursor, encodeCursor, pageSize } from './cursor.js';
import { mergeRunRows } from './rows.js';
import type {
  CallQuery,
  CallRollup,
  RetentionCutoffs,
  RetentionResult,
  RetryRow,
  RollupQuery,
  RollupSet,
  RunDetail,
  RunPage,
  RunQuery,
  RunRollup,
  RunRow,
  StepRow,
  Store,
  StoreBatch,
  StoreInfo,
  StoredCall,
  WriteResult,
} from './store.js';
import { SCHEMA_VERSION } from './schema.js';
import { tileWindow } from './tiles.js';

interface CallSlot {
  readonly cell: CallCell;
}
interface RunSlot {
  readonly cell: RunCell;
}

/**
 * The store in process memory: the reference the SQL stores are tested against, and a
 * fake for tests of what reads a store. Same semantics, no persistence.
 */
export class MemoryStore implements Store {
  readonly kind = 'memory' as const;
  readonly location = 'memory';
  readonly #runs = new Map<string, RunRow>();
  readonly #steps = new Map<string, StepRow>();
  readonly #calls = new Map<string, StoredCall>();
  readonly #retries = new Map<string, RetryRow>();
  readonly #callRollups = new Map<string, CallSlot>();
  readonly #runRollups = new Map<string, RunSlot>();

  write(batch: StoreBatch): Promise<WriteResult> {
    const delta = new RollupDelta();
    let runsStarted = 0;
    let runsFinished = 0;
    let calls = 0;
    let steps = 0;
    let retries = 0;
    let duplicates = 0;
    for (const row of batch.runStarts) {
      if (this.#runs.has(row.run_id)) duplicates++;
      else {
        this.#runs.set(row.run_id, row);
        runsStarted++;
      }
    }
    for (const row of batch.runEnds) {
      const before = this.#runs.get(row.run_id);
      if (before !== undefined && before.status === 'finished') {
        duplicates++;
        continue;
      }
      const merged = before === undefined ? row : mergeRunRows(before, row);
      this.#runs.set(row.run_id, merged);
      delta.addRun(merged);
      runsFinished++;
    }
    for (const row of batch.steps) {
      const key = `${row.run_id}\u0000${row.step_id}\u0000${row.start_ms}`;
      if (this.#steps.has(key)) duplicates++;
      else {
        this.#steps.set(key, row);
        steps++;
      }
    }
    for (const row of batch.calls) {
      const key = `${row.run_id}\u0000${row.seq}`;
      if (this.#calls.has(key)) duplicates++;
      else {
        this.#calls.set(key, row);
        delta.addCall(row);
        calls++;
      }
    }
    for (const row of batch.retries) {
      const key = `${row.run_id}\u0000${row.seq}`;
      if (this.#retries.has(key)) duplicates++;
      else {
        this.#retries.set(key, row);
        retries++;
      }
    }
    if (batch.sampled !== null) delta.merge(batch.sampled);
    this.#mergeRollups(delta);
    return Promise.resolve({ runsStarted, runsFinished, calls, steps, retries, duplicates });
  }

  #mergeRollups(delta: RollupDelta): void {
    for (const cell of delta.callCells()) {
      const id = callCellId(cell);
      const slot = this.#callRollups.get(id);
      if (slot === undefined) this.#callRollups.set(id, { cell: { ...cell, agg: cloneCall(cell.agg) } });
      else slot.cell.agg.merge(cell.agg);
    }
    for (const cell of delta.runCells()) {
      const id = `${callCellId(cell)}\u0000${cell.outcome}`;
      const slot = this.#runRollups.get(id);
      if (slot === undefined) this.#runRollups.set(id, { cell: { ...cell, agg: cloneRun(cell.agg) } });
      else slot.cell.agg.merge(cell.agg);
    }
  }

  runs(query: RunQuery = {}): Promise<RunPage> {
    try {
      return Promise.resolve(this.#runsNow(query));
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  #runsNow(query: RunQuery): RunPage {
    const limit = pageSize(query.limit);
    const cursor = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    const rows = [...this.#runs.values()]
      .filter((run) => matchesRun(run, query))
      .filter((run) => cursor === undefined || run.start_ms < cursor.startMs || (run.start_ms === cursor.startMs && run.run_id < cursor.runId))
      .sort(newestFirst);
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    const next = rows.length > limit && last !== undefined ? encodeCursor({ startMs: last.start_ms, runId: last.run_id }) : null;
    return { runs: page, next_cursor: next };
  }

  run(runId: string): Promise<RunDetail | null> {
    const run = this.#runs.get(runId);
    if (run === undefined) return Promise.resolve(null);
    const of = <T extends { run_id: string }>(rows: Iterable<T>): T[] => [...rows].filter((row) => row.run_id === runId);
    return Promise.resolve({
      run,
      steps: of(this.#steps.values()).sort((a, b) => a.start_ms - b.start_ms || cmp(a.step_id, b.step_id)),
      calls: of(this.#calls.values()).sort((a, b) => a.seq - b.seq),
      retries: of(this.#retries.values()).sort((a, b) => a.seq - b.seq),
      children: [...this.#runs.values()].filter((child) => child.parent_run_id === runId).sort((a, b) => a.start_ms - b.start_ms || cmp(a.run_id, b.run_id)),
    });
  }

  calls(query: CallQuery): Promise<StoredCall[]> {
    const limit = pageSize(query.limit, 5);
    const rows = [...this.#calls.values()].filter(
      (call) =>
        (query.since === undefined || call.end_ms >= query.since) &&
        (query.until === undefined || call.end_ms < query.until) &&
        (query.kind === undefined || call.kind === query.kind) &&
        (query.flow === undefined || call.flow_id === query.flow) &&
        (query.agent === undefined || call.agent === query.agent) &&
        (query.provider === undefined || call.provider === query.provider) &&
        (query.model === undefined || call.model === query.model) &&
        (query.app === undefined || call.app_id === query.app),
    );
    rows.sort(query.order === 'newest' ? (a, b) => b.end_ms - a.end_ms || cmp(b.run_id, a.run_id) || b.seq - a.seq : (a, b) => b.duration_ms - a.duration_ms || cmp(a.run_id, b.run_id) || a.seq - b.seq);
    return Promise.resolve(rows.slice(0, limit));
  }

  rollups(query: RollupQuery): Promise<RollupSet> {
    const calls: CallRollup[] = [];
    const runs: RunRollup[] = [];
    for (const tile of tileWindow(query.since, query.until, query.span)) {
      for (const { cell } of this.#callRollups.values()) {
        if (cell.span === tile.span && cell.bucket_ms >= tile.from && cell.bucket_ms < tile.to && matchesKey(cell.key, query)) calls.push(callRollupOf(cell));
      }
      for (const { cell } of this.#runRollups.values()) {
        if (cell.span === tile.span && cell.bucket_ms >= tile.from && cell.bucket_ms < tile.to && matchesKey(cell.key, query)) runs.push(runRollupOf(cell));
      }
    }
    return Promise.resolve({ calls, runs });
  }

  retain(policy: RetentionCutoffs): Promise<RetentionResult> {
    let runs = 0;
    let calls = 0;
    let rollups = 0;
    const raw = policy.rawBefore;
    if (raw !== undefined) {
      for (const [id, run] of this.#runs) {
        if (run.start_ms < raw) {
          this.#runs.delete(id);
          runs++;
        }
      }
      for (const [id, call] of this.#calls) {
        if (call.end_ms < raw) {
          this.#calls.delete(id);
          calls++;
        }
      }
      for (const [id, step] of this.#steps) if (step.end_ms < raw) this.#steps.delete(id);
      for (const [id, retry] of this.#retries) if (retry.at_ms < raw) this.#retries.delete(id);
    }
    const cutoff = policy.rollupsBefore;
    if (cutoff !== undefined) {
      for (const [id, slot] of this.#callRollups) {
        if (slot.cell.bucket_ms < cutoff) {
          this.#callRollups.delete(id);
          rollups++;
        }
      }
      for (const [id, slot] of this.#runRollups) {
        if (slot.cell.bucket_ms < cutoff) {
          this.#runRollups.delete(id);
          rollups++;
        }
      }
    }
    return Promise.resolve({ runs, calls, rollups });
  }

  info(): Promise<StoreInfo> {
    return Promise.resolve({
      kind: this.kind,
      location: this.location,
      schema_version: SCHEMA_VERSION,
      runs: this.#runs.size,
      calls: this.#calls.size,
      steps: this.#steps.size,
      retries: this.#retries.size,
      call_rollups: this.#callRollups.size,
      run_rollups: this.#runRollups.size,
    });
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function newestFirst(a: RunRow, b: RunRow): number {
  return b.start_ms - a.start_ms || cmp(b.run_id, a.run_id);
}

function matchesRun(run: RunRow, q: RunQuery): boolean {
  return (
    (q.since === undefined || run.start_ms >= q.since) &&
    (q.until === undefined || run.start_ms < q.until) &&
    (q.flow === undefined || run.flow_id === q.flow) &&
    (q.agent === undefined || run.agent === q.agent) &&
    (q.model === undefined || run.model === q.model) &&
    (q.outcome === undefined || run.outcome === q.outcome) &&
    (q.app === undefined || run.app_id === q.app) &&
    (q.session === undefined || run.session_id === q.session) &&
    (q.user === undefined || run.user_id === q.user) &&
    (q.parent === undefined || run.parent_run_id === q.parent) &&
    (q.status === undefined || run.status === q.status)
  );
}

function matchesKey(key: CallCell['key'], q: RollupQuery): boolean {
  return (
    (q.app === undefined || key.app_id === q.app) &&
    (q.flow === undefined || key.flow_id === q.flow) &&
    (q.agent === undefined || key.agent === q.agent) &&
    (q.provider === undefined || key.provider === q.provider) &&
    (q.model === undefined || key.model === q.model)
  );
}

function callCellId(cell: { span: string; bucket_ms: number; key: CallCell['key'] }): string {
  const k = cell.key;
  return [cell.span, cell.bucket_ms, k.app_id, k.flow_id, k.agent, k.provider, k.model].join('\u0000');
}

function cloneCall(agg: CallAgg): CallAgg {
  const copy = new CallAgg();
  copy.merge(agg);
  return copy;
}

function cloneRun(agg: RunAgg): RunAgg {
  const copy = new RunAgg();
  copy.merge(agg);
  return copy;
}

/** A stored cell as the row type readers get; a copy, so a reader cannot change the store. */
export function callRollupOf(cell: CallCell): CallRollup {
  const agg = cloneCall(cell.agg);
  const latency = latencyColumns(agg);
  return {
    ...cell.key,
    span: cell.span,
    bucket_ms: cell.bucket_ms,
    requests: agg.requests,
    errors: agg.errors,
    cache_hits: agg.cacheHits,
    input_tokens: agg.inputTokens,
    output_tokens: agg.outputTokens,
    cached_input_tokens: agg.cachedInputTokens,
    total_tokens: agg.totalTokens,
    cost_usd: agg.costUsd,
    cost_known: agg.costKnown,
    latency_p50_us: latency.p50,
    latency_p90_us: latency.p90,
    latency_p99_us: latency.p99,
    latency_max_us: latency.max,
    latency: agg.latency,
    ttft: agg.ttft,
    tool_calls: agg.toolCalls,
    tool_errors: agg.toolErrors,
    tool_latency: agg.toolLatency,
  };
}

export function runRollupOf(cell: RunCell): RunRollup {
  const agg = cloneRun(cell.agg);
  return {
    ...cell.key,
    span: cell.span,
    bucket_ms: cell.bucket_ms,
    outcome: cell.outcome,
    runs: agg.runs,
    stats: agg.stats,
    true_positives: agg.truePositives,
    false_positives: agg.falsePositives,
    false_negatives: agg.falseNegatives,
    true_negatives: agg.trueNegatives,
  };
}
