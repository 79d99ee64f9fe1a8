/**
 * OpenAI streams report usage only when asked (`stream_options.include_usage`). The proxy
 * asks on the client's behalf and hides the answer, so the client sees exactly what it
 * asked for: the extra final chunk (empty `choices`, the `usage`) is removed, and so is the
 * `"usage":null` member OpenAI then adds to every other chunk.
 */

type Obj = Readonly<Record<string, unknown>>;

/**
 * The request body to send upstream: unchanged (`null`) unless it is a streamed chat
 * request that did not ask for usage. The member is appended to the client's own text, so
 * the rest of the body goes upstream byte for byte.
 */
export function withIncludeUsage(text: string, body: Obj): string | null {
  if (body.stream !== true) return null;
  const options = body.stream_options;
  if (options === undefined || options === null) {
    const end = text.lastIndexOf('}');
    if (end === -1) return null;
    const head = text.slice(0, end).trimEnd();
    // `{}` has no member to put a comma after.
    const sep = head.endsWith('{') ? '' : ',';
    return `${head}${sep}"stream_options":{"include_usage":true}${text.slice(end)}`;
  }
  if (typeof options !== 'object' || Array.isArray(options)) return null;
  if ((options as Obj).include_usage === true) return null;
  return JSON.stringify({ ...body, stream_options: { ...(options as Obj), include_usage: true } });
}

// The member as OpenAI writes it (compact JSON), after or before another member.
const USAGE_NULL = /,\s*"usage"\s*:\s*null(?=\s*[,}])|"usage"\s*:\s*null\s*,/;

/**
 * One raw SSE event (its text up to and including the blank line) → what the client gets:
 * `''` for the usage-only chunk, the event without `"usage":null` otherwise.
 */
export function filterChatEvent(raw: string, data: Obj | undefined): string {
  if (data !== undefined && Array.isArray(data.choices) && data.choices.length === 0 && data.usage !== undefined && data.usage !== null) return '';
  return raw.includes('"usage"') ? raw.replace(USAGE_NULL, '') : raw;
}

/**
 * Splits decoded stream text into whole SSE events (each ending in a blank line), keeping
 * the exact text so that what is not filtered goes on unchanged.
 */
export class RawEventSplitter {
  private buffer = '';

  push(text: string): string[] {
    this.buffer += text;
    const out: string[] = [];
    for (;;) {
      const end = blankLine(this.buffer);
      if (end === -1) break;
      out.push(this.buffer.slice(0, end));
      this.buffer = this.buffer.slice(end);
    }
    return out;
  }

  /** What is left when the stream ends (an event no blank line closed). */
  end(): string {
    const rest = this.buffer;
    this.buffer = '';
    return rest;
  }
}

/** Index just past the first blank line (LF LF, CRLF CRLF, CR CR), or -1. */
function blankLine(s: string): number {
  const lf = s.indexOf('\n\n');
  const crlf = s.indexOf('\r\n\r\n');
  const cr = s.indexOf('\r\r');
  let best = -1;
  if (lf !== -1) best = lf + 2;
  if (crlf !== -1 && (best === -1 || crlf + 4 <= best)) best = crlf + 4;
  if (cr !== -1 && (best === -1 || cr + 2 < best)) best = cr + 2;
  return best;
}
