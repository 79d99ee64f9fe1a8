/** Where the next (older) page of runs starts: after the last run shown, in (start, id) order. */
export interface RunCursor {
  readonly startMs: number;
  readonly runId: string;
}

export function encodeCursor(cursor: RunCursor): string {
  return Buffer.from(JSON.stringify([cursor.startMs, cursor.runId])).toString('base64url');
}

/** The cursor a previous page gave, or a RangeError that says the cursor is not one. */
export function decodeCursor(text: string): RunCursor {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw new RangeError('cursor is not one this server gave out');
  }
  if (!Array.isArray(value) || typeof value[0] !== 'number' || typeof value[1] !== 'string') {
    throw new RangeError('cursor is not one this server gave out');
  }
  return { startMs: value[0], runId: value[1] };
}

export const DEFAULT_PAGE = 50;
export const MAX_PAGE = 1_000;

export function pageSize(limit: number | undefined, fallback = DEFAULT_PAGE): number {
  if (limit === undefined) return fallback;
  if (!Number.isInteger(limit) || limit <= 0) throw new RangeError(`limit must be a positive integer, got ${String(limit)}`);
  return Math.min(limit, MAX_PAGE);
}
