/**
 * The store's tables, written once and rendered for each dialect. Times are epoch
 * milliseconds (bigint), booleans 0/1, JSON as text: the same SQL then runs on SQLite and
 * on a stock PostgreSQL 15 with no extensions, so TimescaleDB or Citus can take over.
 */
export type Dialect = 'sqlite' | 'postgres';

/** `text!` is NOT NULL text; `id` a NOT NULL key part. */
type ColumnType = 'text' | 'text!' | 'int' | 'int!' | 'real' | 'real!' | 'bool' | 'bool!' | 'blob';

export interface Column {
  readonly name: string;
  readonly type: ColumnType;
}

const col = (name: string, type: ColumnType): Column => ({ name, type });

export const RUN_COLUMNS: readonly Column[] = [
  col('run_id', 'text!'),
  col('parent_run_id', 'text'),
  col('trace_id', 'text'),
  col('flow_id', 'text!'),
  col('task_id', 'text'),
  col('agent', 'text!'),
  col('app_id', 'text'),
  col('session_id', 'text'),
  col('user_id', 'text'),
  col('exec_mode', 'text!'),
  col('branch', 'text!'),
  col('status', 'text!'),
  col('provider', 'text'),
  col('model', 'text'),
  col('outcome', 'text'),
  col('success', 'bool'),
  col('partial', 'bool'),
  col('start_ms', 'int!'),
  col('end_ms', 'int'),
  col('elapsed_seconds', 'real'),
  col('input_tokens', 'int'),
  col('output_tokens', 'int'),
  col('total_tokens', 'int'),
  col('cached_input_tokens', 'int'),
  col('cost_usd', 'real'),
  col('cost_source', 'text'),
  col('limits_exceeded', 'text!'),
  col('retries', 'int'),
  col('retries_by_reason', 'text!'),
  col('retry_backoff_seconds', 'real'),
  col('budget_exceeded_during_retry', 'bool'),
  col('llm_calls', 'int'),
  col('tool_calls', 'int'),
  col('steps', 'int'),
  col('error_type', 'text'),
  col('attributes', 'text!'),
  col('summary', 'text'),
];

/** Run columns a finished run's row may leave empty and a started row fills (ids set when the run opened). */
export const RUN_KEEP_IF_NULL: readonly string[] = ['parent_run_id', 'trace_id', 'app_id', 'session_id', 'user_id', 'task_id'];

export const STEP_COLUMNS: readonly Column[] = [
  col('run_id', 'text!'),
  col('step_id', 'text!'),
  col('flow_id', 'text!'),
  col('agent', 'text!'),
  col('model', 'text'),
  col('start_ms', 'int!'),
  col('end_ms', 'int!'),
  col('duration_ms', 'real!'),
  col('success', 'bool!'),
  col('error', 'text'),
];

export const CALL_COLUMNS: readonly Column[] = [
  col('run_id', 'text!'),
  col('seq', 'int!'),
  col('kind', 'text!'),
  col('step_id', 'text'),
  col('flow_id', 'text!'),
  col('agent', 'text!'),
  col('app_id', 'text'),
  col('provider', 'text'),
  col('model', 'text'),
  col('phase', 'text'),
  col('tool', 'text'),
  col('start_ms', 'int!'),
  col('end_ms', 'int!'),
  col('duration_ms', 'real!'),
  col('ttft_ms', 'real'),
  col('input_tokens', 'int'),
  col('output_tokens', 'int'),
  col('total_tokens', 'int'),
  col('cached_input_tokens', 'int'),
  col('cost_usd', 'real'),
  col('cost_source', 'text'),
  col('streaming', 'bool'),
  col('cache_hit', 'bool'),
  col('success', 'bool!'),
  col('error_type', 'text'),
  col('error_message', 'text'),
  col('sample_rate', 'real!'),
];

export const RETRY_COLUMNS: readonly Column[] = [
  col('run_id', 'text!'),
  col('seq', 'int!'),
  col('step_id', 'text'),
  col('reason', 'text!'),
  col('attempt', 'int!'),
  col('backoff_seconds', 'real!'),
  col('at_ms', 'int!'),
];

const KEY_COLUMNS: readonly Column[] = [
  col('span', 'text!'),
  col('bucket_ms', 'int!'),
  col('app_id', 'text!'),
  col('flow_id', 'text!'),
  col('agent', 'text!'),
  col('provider', 'text!'),
  col('model', 'text!'),
];

export const CALL_ROLLUP_COLUMNS: readonly Column[] = [
  ...KEY_COLUMNS,
  col('requests', 'int!'),
  col('errors', 'int!'),
  col('cache_hits', 'int!'),
  col('input_tokens', 'int!'),
  col('output_tokens', 'int!'),
  col('cached_input_tokens', 'int!'),
  col('total_tokens', 'int!'),
  col('cost_usd', 'real!'),
  col('cost_known', 'int!'),
  col('latency_p50_us', 'real'),
  col('latency_p90_us', 'real'),
  col('latency_p99_us', 'real'),
  col('latency_max_us', 'real'),
  col('latency_sketch', 'blob'),
  col('ttft_sketch', 'blob'),
  col('tool_calls', 'int!'),
  col('tool_errors', 'int!'),
  col('tool_sketch', 'blob'),
];

export const RUN_ROLLUP_COLUMNS: readonly Column[] = [
  ...KEY_COLUMNS,
  col('outcome', 'text!'),
  col('runs', 'int!'),
  col('stats', 'text!'),
  col('true_positives', 'int!'),
  col('false_positives', 'int!'),
  col('false_negatives', 'int!'),
  col('true_negatives', 'int!'),
];

export const CALL_ROLLUP_KEY = KEY_COLUMNS.map((c) => c.name);
export const RUN_ROLLUP_KEY = [...CALL_ROLLUP_KEY, 'outcome'];

/** The table and the column it is partitioned on (PostgreSQL: raw tables by day, rollups by month). */
export interface TableSpec {
  readonly name: string;
  readonly columns: readonly Column[];
  readonly key: readonly string[];
  readonly timeColumn: string;
  readonly partition: 'day' | 'month';
}

export const RUNS: TableSpec = { name: 'runs', columns: RUN_COLUMNS, key: ['start_ms', 'run_id'], timeColumn: 'start_ms', partition: 'day' };
export const STEPS: TableSpec = { name: 'steps', columns: STEP_COLUMNS, key: ['end_ms', 'run_id', 'step_id', 'start_ms'], timeColumn: 'end_ms', partition: 'day' };
export const CALLS: TableSpec = { name: 'calls', columns: CALL_COLUMNS, key: ['end_ms', 'run_id', 'seq'], timeColumn: 'end_ms', partition: 'day' };
export const RETRIES: TableSpec = { name: 'retries', columns: RETRY_COLUMNS, key: ['at_ms', 'run_id', 'seq'], timeColumn: 'at_ms', partition: 'day' };
export const CALL_ROLLUPS: TableSpec = { name: 'call_rollups', columns: CALL_ROLLUP_COLUMNS, key: CALL_ROLLUP_KEY, timeColumn: 'bucket_ms', partition: 'month' };
export const RUN_ROLLUPS: TableSpec = { name: 'run_rollups', columns: RUN_ROLLUP_COLUMNS, key: RUN_ROLLUP_KEY, timeColumn: 'bucket_ms', partition: 'month' };

export const RAW_TABLES: readonly TableSpec[] = [RUNS, STEPS, CALLS, RETRIES];
export const ROLLUP_TABLES: readonly TableSpec[] = [CALL_ROLLUPS, RUN_ROLLUPS];

/** The version this code writes. A database at a higher version was written by a newer flowmeter. */
export const SCHEMA_VERSION = 4;

/** What marks a database as flowmeter's (the `flowmeter_meta` row `app`). */
export const APP_MARK = 'flowmeter';

function sqlType(type: ColumnType, dialect: Dialect): string {
  const base = type.replace('!', '');
  const notNull = type.endsWith('!') ? ' NOT NULL' : '';
  const name =
    dialect === 'sqlite'
      ? { text: 'TEXT', int: 'INTEGER', real: 'REAL', bool: 'INTEGER', blob: 'BLOB' }[base]
      : { text: 'text', int: 'bigint', real: 'double precision', bool: 'smallint', blob: 'bytea' }[base];
  return `${name ?? 'TEXT'}${notNull}`;
}

function createTable(table: TableSpec, dialect: Dialect): string {
  const columns = table.columns.map((c) => `  ${c.name} ${sqlType(c.type, dialect)}`).join(',\n');
  // SQLite keys runs, calls and retries by id alone; PostgreSQL must include the partition column.
  const key = dialect === 'sqlite' ? sqliteKey(table) : table.key;
  const tail = dialect === 'postgres' ? ` PARTITION BY RANGE (${table.timeColumn})` : '';
  return `CREATE TABLE ${table.name} (\n${columns},\n  PRIMARY KEY (${key.join(', ')})\n)${tail}`;
}

export function sqliteKey(table: TableSpec): readonly string[] {
  if (table === RUNS) return ['run_id'];
  if (table === CALLS || table === RETRIES) return ['run_id', 'seq'];
  if (table === STEPS) return ['run_id', 'step_id', 'start_ms'];
  return table.key;
}

/**
 * Migrations, in order; migration N brings a database from version N-1 to N. Each runs in
 * one transaction with the version bump, so a crash leaves the old version or the new.
 */
export function migrations(dialect: Dialect): readonly (readonly string[])[] {
  const index = (name: string, table: string, columns: string): string => `CREATE INDEX ${name} ON ${table} (${columns})`;
  return [
    // 1: raw rows — runs, steps, calls, retries.
    [
      ...RAW_TABLES.map((t) => createTable(t, dialect)),
      index('runs_by_start', 'runs', 'start_ms, run_id'),
      index('runs_by_end', 'runs', 'end_ms'),
      index('runs_by_parent', 'runs', 'parent_run_id'),
      // PostgreSQL's calls key already leads with end_ms (migration 3 drops the index where it was made).
      ...(dialect === 'sqlite' ? [index('calls_by_end', 'calls', 'end_ms')] : []),
      index('steps_by_run', 'steps', 'run_id'),
      // SQLite's primary keys already lead with the run id; PostgreSQL's lead with the partition column.
      ...(dialect === 'postgres'
        ? [index('runs_by_id', 'runs', 'run_id'), index('calls_by_run', 'calls', 'run_id, seq'), index('retries_by_run', 'retries', 'run_id, seq')]
        : []),
    ],
    // 2: minute, hour and day rollups with serialized sketches.
    [...ROLLUP_TABLES.map((t) => createTable(t, dialect))],
    // 3: the slowest calls of a long window without sorting all of them; PostgreSQL's
    // calls_by_end duplicated the leading column of its calls key and slowed every insert.
    [index('calls_by_duration', 'calls', 'duration_ms DESC, run_id, seq'), ...(dialect === 'postgres' ? ['DROP INDEX IF EXISTS calls_by_end'] : [])],
    // 4: calls_by_duration on the duration alone: ties are rare and sorted after the index
    // walk, and the narrower entry cut a call row's insert by a seventh on SQLite.
    // Most runs have no parent, so runs_by_parent keeps only those that do. On PostgreSQL
    // runs_by_start repeated the runs key (start_ms, run_id) and doubled its upkeep.
    [
      'DROP INDEX IF EXISTS calls_by_duration',
      index('calls_by_duration', 'calls', 'duration_ms DESC'),
      'DROP INDEX IF EXISTS runs_by_parent',
      `${index('runs_by_parent', 'runs', 'parent_run_id')} WHERE parent_run_id IS NOT NULL`,
      // On SQLite steps_by_run repeated the leading column of the steps key.
      ...(dialect === 'postgres' ? ['DROP INDEX IF EXISTS runs_by_start'] : ['DROP INDEX IF EXISTS steps_by_run']),
    ],
  ];
}

export const META_TABLE = 'flowmeter_meta';

export function createMeta(): string {
  return `CREATE TABLE IF NOT EXISTS ${META_TABLE} (key TEXT PRIMARY KEY, value TEXT NOT NULL)`;
}
