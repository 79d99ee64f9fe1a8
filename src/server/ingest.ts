import type { FlowEvent } from '../model/index.js';
import { flowEventSchema } from '../model/index.js';

/** Longest NDJSON line accepted: one event is far smaller; a longer line is not an event. */
export const MAX_LINE_BYTES = 256 * 1024;
/** Largest ingest body: a batch of tens of thousands of events. */
export const MAX_BODY_BYTES = 16 * 1024 * 1024;

export type IngestParse =
  | { readonly ok: true; readonly events: FlowEvent[] }
  | { readonly ok: false; readonly status: 400 | 413; readonly line: number; readonly reason: string };

/** The first problem zod found, as `path: message`. */
function reasonOf(issues: readonly { path: readonly (string | number)[]; message: string }[]): string {
  const first = issues[0];
  if (first === undefined) return 'not an event';
  return first.path.length === 0 ? first.message : `${first.path.join('.')}: ${first.message}`;
}

/**
 * A whole NDJSON batch of the event model, or the first bad line with its number (1-based)
 * and why. All or nothing: a batch with one bad line is refused whole, so a client that
 * fixes and resends it never stores half of it twice.
 */
export function parseNdjson(body: string): IngestParse {
  const events: FlowEvent[] = [];
  let lineNo = 0;
  let start = 0;
  while (start <= body.length) {
    let end = body.indexOf('\n', start);
    if (end < 0) end = body.length;
    lineNo++;
    const line = body.slice(start, end).trim();
    start = end + 1;
    if (line === '') {
      if (end === body.length) break;
      continue;
    }
    if (Buffer.byteLength(line) > MAX_LINE_BYTES) return { ok: false, status: 413, line: lineNo, reason: `line longer than ${MAX_LINE_BYTES} bytes` };
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      return { ok: false, status: 400, line: lineNo, reason: `not JSON: ${err instanceof Error ? err.message : String(err)}` };
    }
    const parsed = flowEventSchema.safeParse(value);
    if (!parsed.success) return { ok: false, status: 400, line: lineNo, reason: reasonOf(parsed.error.issues) };
    events.push(value as FlowEvent);
  }
  return { ok: true, events };
}
