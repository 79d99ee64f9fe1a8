import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { SqlValue } from '../rows.js';

/** Rows per chunk handed to the COPY stream: large enough to amortize, small enough to stream. */
const CHUNK_ROWS = 2_000;

const ESCAPES: Readonly<Record<string, string>> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** One value in COPY's text format: `\N` for NULL, backslash escapes for text, `\\x…` for bytea. */
export function copyValue(value: SqlValue): string {
  if (value === null) return '\\N';
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return /[\\\t\n\r]/.test(value) ? value.replace(/[\\\t\n\r]/g, (c) => ESCAPES[c] ?? c) : value;
  return `\\\\x${value.toString('hex')}`;
}

function* chunks(rows: readonly SqlValue[][]): Generator<string> {
  for (let start = 0; start < rows.length; start += CHUNK_ROWS) {
    const end = Math.min(start + CHUNK_ROWS, rows.length);
    const lines: string[] = [];
    for (let i = start; i < end; i++) lines.push((rows[i] as SqlValue[]).map(copyValue).join('\t'));
    yield `${lines.join('\n')}\n`;
  }
}

/** Streams `rows` into `table` (the column list in `columns`) with `COPY … FROM STDIN` on `client`. */
export async function copyRows(client: pg.PoolClient, table: string, columns: string, rows: readonly SqlValue[][]): Promise<void> {
  await pipeline(Readable.from(chunks(rows)), client.query(copyFrom(`COPY ${table} (${columns}) FROM STDIN`)));
}
