import type { Store } from './store.js';
import { StoreError } from './store.js';

/** Where the store lives: a SQLite file, a PostgreSQL URL, or off. */
export type StoreLocation = { readonly path: string } | { readonly url: string };

/** What `createMeter({ store })`, `--db` and FLOWMETER_DB accept. */
export type StoreSetting = false | StoreLocation;

export const DEFAULT_DB_PATH = '.flowmeter/flowmeter.db';

const OFF = new Set(['off', 'false', '0', 'none', 'no']);

/** `path.db`, `postgres://…` (or `postgresql://…`), or `off`. */
export function parseStoreSetting(text: string): StoreSetting {
  const value = text.trim();
  if (value === '') throw new StoreError('the store setting is empty; give a file path, a postgres:// URL or "off"');
  if (OFF.has(value.toLowerCase())) return false;
  if (/^postgres(ql)?:\/\//i.test(value)) return { url: value };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) throw new StoreError(`${value.split('://')[0] ?? ''}:// is not a store; use a file path or a postgres:// URL`);
  return { path: value };
}

export function describeStore(setting: StoreLocation): string {
  if ('path' in setting) return setting.path;
  try {
    const url = new URL(setting.url);
    if (url.password !== '') url.password = '***';
    return url.toString();
  } catch {
    return 'postgres://…';
  }
}

export interface OpenOptions {
  /** SQLite: open an existing file for reading only (no migrations, no file created). */
  readonly readonly?: boolean;
}

/**
 * Opens the store; the driver of the backend not used is never loaded. Throws StoreError
 * with one line a person can act on.
 */
export async function openStore(setting: StoreLocation | string, options: OpenOptions = {}): Promise<Store> {
  const location = typeof setting === 'string' ? parseStoreSetting(setting) : setting;
  if (location === false) throw new StoreError('the store is off');
  if ('url' in location) {
    const { PostgresStore } = await import('./postgres/postgres-store.js');
    return PostgresStore.open(location.url);
  }
  const { SqliteStore } = await import('./sqlite/sqlite-store.js');
  return SqliteStore.open(location.path, { readonly: options.readonly === true });
}
