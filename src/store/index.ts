/**
 * `flowmeter/store`: the store every run and call lands in (SQLite by default, PostgreSQL
 * at scale), its rollups, and what reads them.
 */
export { openStore, parseStoreSetting, describeStore, DEFAULT_DB_PATH } from './open.js';
export type { StoreLocation, StoreSetting, OpenOptions } from './open.js';
export { StoreError, SPAN_MS } from './store.js';
export type {
  Store,
  StoreKind,
  StoreBatch,
  WriteResult,
  RunRow,
  StoredRun,
  RunStatus,
  StepRow,
  CallRow,
  StoredCall,
  CallKind,
  RetryRow,
  RunQuery,
  RunPage,
  RunDetail,
  CallQuery,
  RollupKey,
  RollupSpan,
  CallRollup,
  RunRollup,
  RollupQuery,
  RollupSet,
  RetentionCutoffs,
  RetentionResult,
  StoreInfo,
} from './store.js';
export { MemoryStore } from './memory-store.js';
export { SqliteStore } from './sqlite/sqlite-store.js';
export type { SqliteStoreOptions } from './sqlite/sqlite-store.js';
export { PostgresStore } from './postgres/postgres-store.js';
export type { PostgresStoreOptions } from './postgres/postgres-store.js';
export { BatchBuilder } from './batch.js';
export type { BuildOptions } from './batch.js';
export { CallAgg, RunAgg, RollupDelta, ROLLUP_SPANS } from './rollup.js';
export { tileWindow } from './tiles.js';
export type { Tile } from './tiles.js';
export { windowGroups, GROUP_BY, isGroupBy } from './window.js';
export type { GroupBy, WindowGroup, WindowQuery, ModelTotals, Confusion } from './window.js';
export { buildReport, REPORT_FORMAT } from './report.js';
export type { Report, ReportGroup, ReportModel, ReportCall } from './report.js';
export { applyRetention, startRetention, parseRetention } from './retention.js';
export type { RetentionPolicy } from './retention.js';
export { SCHEMA_VERSION } from './schema.js';
