/**
 * `--db` and the time options every store command shares: where the store is, and which
 * window a report or check reads.
 */
import { existsSync } from 'node:fs';
import { InvalidArgumentError } from 'commander';
import { DEFAULT_DB_PATH, openStore, parseStoreSetting } from '../store/open.js';
import type { StoreLocation, StoreSetting } from '../store/open.js';
import type { Store } from '../store/store.js';
import { StoreError } from '../store/store.js';
import { parseRetention } from '../store/retention.js';
import { UserError } from './io.js';
import { durationMs, timeMs } from '../model/duration.js';

export const DB_HELP = 'the store: a SQLite file, a postgres:// URL, or "off" (default: FLOWMETER_DB, else .flowmeter/flowmeter.db)';

/** Commander parser for `--db`: a usage error (exit 2) names what is wrong. */
export function dbOption(value: string): StoreSetting {
  try {
    return parseStoreSetting(value);
  } catch (err) {
    throw new InvalidArgumentError(err instanceof Error ? err.message : String(err));
  }
}

export interface DbChoice {
  readonly setting: StoreSetting;
  /** Whether the user named it (--db or FLOWMETER_DB) rather than the default path. */
  readonly explicit: boolean;
}

/** `--db`, else FLOWMETER_DB, else the default file. */
export function chooseDb(flag: StoreSetting | undefined, env: Readonly<Record<string, string | undefined>> = process.env): DbChoice {
  if (flag !== undefined) return { setting: flag, explicit: true };
  const fromEnv = env.FLOWMETER_DB;
  if (fromEnv !== undefined && fromEnv !== '') {
    try {
      return { setting: parseStoreSetting(fromEnv), explicit: true };
    } catch (err) {
      throw new UserError(`FLOWMETER_DB: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return { setting: { path: DEFAULT_DB_PATH }, explicit: false };
}

/** Whether there is a store to read: a URL, or a SQLite file that exists. */
export function storeExists(setting: StoreSetting): setting is StoreLocation {
  if (setting === false) return false;
  return 'url' in setting || existsSync(setting.path);
}

/** Opens a store for a command; every store problem becomes one line and exit code 1. */
export async function openForCli(setting: StoreLocation, options: { readonly mustExist?: boolean } = {}): Promise<Store> {
  if (options.mustExist === true && 'path' in setting && !existsSync(setting.path)) {
    throw new UserError(`${setting.path}: no such store (run something first, or pass --db)`);
  }
  try {
    return await openStore(setting);
  } catch (err) {
    if (err instanceof StoreError) throw new UserError(err.message);
    throw err;
  }
}

/** `90s`, `15m`, `24h`, `30d`, `2w` → milliseconds. */
export function parseDuration(text: string): number {
  const ms = durationMs(text);
  if (ms === null) throw new InvalidArgumentError(`"${text}" is not a duration; write e.g. 15m, 24h or 30d`);
  return ms;
}

/** An ISO time (`2026-12-01`, `2026-12-01T10:00Z`) or a duration back from now (`24h`). */
export function parseTime(text: string, now = Date.now()): number {
  const ms = timeMs(text, now);
  if (ms === null) throw new InvalidArgumentError(`"${text}" is not a time; write an ISO time such as 2026-12-01T10:00:00Z or a duration such as 24h`);
  return ms;
}

export interface WindowOptions {
  readonly since?: number;
  readonly from?: number;
  readonly to?: number;
}

/** [since, until) from `--since D` or `--from T --to T`; all time when none is given. */
export function windowOf(opts: WindowOptions, now = Date.now()): { since: number; until: number } {
  if (opts.since !== undefined && (opts.from !== undefined || opts.to !== undefined)) throw new UserError('use --since or --from/--to, not both');
  // Rollups are per minute: the window reaches to the end of the current minute.
  const until = opts.to ?? now + 60_000;
  const since = opts.since !== undefined ? now - opts.since : (opts.from ?? 0);
  if (since >= until) throw new UserError('the window is empty: --from must be before --to');
  return { since, until };
}

/** Commander parser for `--retain-raw` and `--retain-rollups`. */
export function retentionOption(value: string): number {
  try {
    return parseRetention(value, 'retention');
  } catch (err) {
    throw new InvalidArgumentError(err instanceof Error ? err.message : String(err));
  }
}

export const RETAIN_RAW_HELP = 'delete raw runs and calls older than this (e.g. 30d), in the background';
export const RETAIN_ROLLUPS_HELP = 'delete rollups older than this (e.g. 400d); they outlive raw rows, so old windows still report';
