import type { TableSpec } from '../schema.js';

const DAY_MS = 86_400_000;

/** One range partition of a table: rows with `from <= time < to`. */
export interface Partition {
  readonly table: string;
  readonly name: string;
  readonly from: number;
  readonly to: number;
}

const pad = (n: number): string => String(n).padStart(2, '0');

/**
 * The partition holding `ms`: raw tables by UTC day (`calls_p20261203`), rollups by UTC
 * month (`call_rollups_p202612`). The name carries the range, so retention reads it back.
 */
export function partitionOf(table: TableSpec, ms: number): Partition {
  const d = new Date(ms);
  if (table.partition === 'day') {
    const from = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
    return { table: table.name, name: `${table.name}_p${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}`, from, to: from + DAY_MS };
  }
  const from = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  const to = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
  return { table: table.name, name: `${table.name}_p${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}`, from, to };
}

/** The range a partition name stands for, or null for a name that is not one of ours. */
export function rangeOfName(table: TableSpec, name: string): { from: number; to: number } | null {
  const match = new RegExp(`^${table.name}_p(\\d{4})(\\d{2})(\\d{2})?$`).exec(name);
  if (match === null) return null;
  const year = Number(match[1]);
  const month = Number(match[2]) - 1;
  if (table.partition === 'day') {
    if (match[3] === undefined) return null;
    const from = Date.UTC(year, month, Number(match[3]));
    return { from, to: from + DAY_MS };
  }
  if (match[3] !== undefined) return null;
  return { from: Date.UTC(year, month, 1), to: Date.UTC(year, month + 1, 1) };
}

/** Partitions to have ready around `now`: raw tables a day back and a week ahead, rollups this month and the next. */
export function partitionsAhead(table: TableSpec, now: number): Partition[] {
  if (table.partition === 'day') return Array.from({ length: 9 }, (_, i) => partitionOf(table, now + (i - 1) * DAY_MS));
  const d = new Date(now);
  return [partitionOf(table, now), partitionOf(table, Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1))];
}
