/** Milliseconds per unit of the durations every command and API accepts: `90s`, `15m`, `24h`, `30d`, `2w`. */
const UNITS: Readonly<Record<string, number>> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

const DURATION = /^(\d+(?:\.\d+)?)\s*([smhdw])$/;

/** `15m` → 900000; null when the text is not a duration. */
export function durationMs(text: string): number | null {
  const m = DURATION.exec(text.trim());
  return m === null ? null : Number(m[1]) * UNITS[m[2]!]!;
}

/** A duration back from `now` (`24h`) or an ISO time (`2026-12-01T10:00Z`), as epoch ms; null when it is neither. */
export function timeMs(text: string, now = Date.now()): number | null {
  const back = durationMs(text);
  if (back !== null) return now - back;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? null : ms;
}
