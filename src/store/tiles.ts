import type { RollupSpan } from './store.js';
import { SPAN_MS } from './store.js';

/** One stretch of a window read at one resolution: buckets with `from <= bucket_ms < to`. */
export interface Tile {
  readonly span: RollupSpan;
  readonly from: number;
  readonly to: number;
}

const ceilTo = (ms: number, size: number): number => Math.ceil(ms / size) * size;
const floorTo = (ms: number, size: number): number => Math.floor(ms / size) * size;

/**
 * Splits [since, until) into the fewest rollup buckets that cover it: whole days in the
 * middle, whole hours beside them, minutes at the edges. Rollups cannot split a minute, so
 * the window is widened to whole minutes (since rounded down, until rounded up).
 */
export function tileWindow(since: number, until: number, span?: RollupSpan): Tile[] {
  const start = floorTo(since, SPAN_MS['1m']);
  const end = ceilTo(until, SPAN_MS['1m']);
  if (end <= start) return [];
  if (span !== undefined) return [{ span, from: floorTo(start, SPAN_MS[span]), to: ceilTo(end, SPAN_MS[span]) }];
  const tiles: Tile[] = [];
  const hourStart = Math.min(ceilTo(start, SPAN_MS['1h']), end);
  const hourEnd = Math.max(floorTo(end, SPAN_MS['1h']), hourStart);
  const dayStart = Math.min(ceilTo(hourStart, SPAN_MS['1d']), hourEnd);
  const dayEnd = Math.max(floorTo(hourEnd, SPAN_MS['1d']), dayStart);
  const push = (tileSpan: RollupSpan, from: number, to: number): void => {
    if (to > from) tiles.push({ span: tileSpan, from, to });
  };
  push('1m', start, hourStart);
  push('1h', hourStart, dayStart);
  push('1d', dayStart, dayEnd);
  push('1h', dayEnd, hourEnd);
  push('1m', hourEnd, end);
  return tiles;
}
