import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { SqlValue } from '../rows.js';

/** Rows per chunk handed to the COPY stream: large enough to amortize, small enough to stream. */
const CHUNK_ROWS = 2_000;

const ESCAPES: Readonly<Record<string, string>> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
const NEEDS_ESCAPE = /[\\\t\n\r]/;

/** One value in COPY's text format: `\N` for NULL, backslash escapes for text, `\\x…` for bytea. */
export function copyValue(value: SqlValue): string {
  if (value === null) return '\\N';
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return NEEDS_ESCAPE.test(value) ? value.replace(/[\\\t\n\r]/g, (c) => ESCAPES[c] ?? c) : value;
  return `\\\\x${value.toString('hex')}`;
}

/** A COPY text line from a row's values (callValues, runValues). */
export function copyLine<T>(values: (row: T) => readonly SqlValue[]): (row: T) => string {
  return (row) => {
    const v = values(row);
    let line = copyValue(v[0] ?? null);
    for (let i = 1; i < v.length; i++) line += `\t${copyValue(v[i] ?? null)}`;
    return line;
  };
}

function* chunks<T>(rows: readonly T[], line: (row: T) => string): Generator<string> {
  for (let start = 0; start < rows.length; start += CHUNK_ROWS) {
    const end = Math.min(start + CHUNK_ROWS, rows.length);
    let text = '';
    for (let i = start; i < end; i++) text += `${line(rows[i] as T)}\n`;
    yield text;
  }
}

/** Streams `rows`, each made a line by `line`, into `table` (the column list in `columns`) with `COPY … FROM STDIN` on `client`. */
export async function copyRows<T>(client: pg.ClientBase, table: string, columns: string, rows: readonly T[], line: (row: T) => string): Promise<void> {
  await pipeline(Readable.from(chunks(rows, line)), client.query(copyFrom(`COPY ${table} (${columns}) FROM STDIN`)));
}
