/**
 * A tiny logfmt encoder, the format of zerg's tier-3 logs (`key=value` pairs separated
 * by spaces), written so that `grep "success=false"` and `grep -o "model=[^ ]*"` work.
 *
 * Quoting follows go-logfmt, the de facto reference: a value is double-quoted only
 * when it contains a space, `=`, `"` or a control character; inside quotes `"` and `\`
 * are backslash-escaped and control characters use JSON's escapes (`\n`, `\t`, `\u0001`).
 */

import { memoizeEncoding } from './memo.js';

export type LogfmtValue = string | number | boolean | null | undefined;

// Anything that would split the pair or the line when written bare.
// eslint-disable-next-line no-control-regex
const NEEDS_QUOTES = /[\s="\u0000-\u001f\u007f]/;

/** Encodes one value. Booleans print as `true`/`false`, numbers as JavaScript prints them. */
export function logfmtValue(value: string | number | boolean): string {
  if (typeof value !== 'string') return String(value);
  return encodeString(value);
}

// Label-like strings repeat on nearly every line; see memo.ts.
const encodeString = memoizeEncoding(encodeStringOnce);

function encodeStringOnce(value: string): string {
  // An empty value is written as `""` so that `key=` never looks like a truncated line.
  if (value === '') return '""';
  if (!NEEDS_QUOTES.test(value)) return value;
  // JSON's string escaping is exactly the quoted form: `"` and `\` escaped, control
  // characters as `\n`, `\t`, `\uXXXX`, everything else (including non-ASCII) as is.
  return JSON.stringify(value);
}

/** ` key=value` with a leading space, or `''` when the value is null or undefined (not measured). */
export function logfmtPair(key: string, value: LogfmtValue): string {
  if (value === null || value === undefined) return '';
  return ' ' + key + '=' + logfmtValue(value);
}

/** Encodes a record as one logfmt line (no trailing newline), skipping null and undefined values. */
export function formatLogfmt(fields: Readonly<Record<string, LogfmtValue>>): string {
  let line = '';
  for (const key of Object.keys(fields)) line += logfmtPair(key, fields[key]);
  return line.length > 0 ? line.slice(1) : line;
}
