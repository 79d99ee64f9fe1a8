/** Numbers as the CLI prints them: a value that was not measured is a dash, never 0. */
export const DASH = '—';

export function usd(v: number | null | undefined): string {
  if (v === null || v === undefined) return DASH;
  if (v === 0) return '$0';
  if (Math.abs(v) >= 100) return `$${v.toFixed(0)}`;
  if (Math.abs(v) >= 1) return `$${v.toFixed(2)}`;
  return `$${Number(v.toPrecision(3))}`;
}

export function ms(v: number | null | undefined): string {
  if (v === null || v === undefined) return DASH;
  if (v >= 60_000) return `${(v / 60_000).toFixed(1)} min`;
  if (v >= 1000) return `${(v / 1000).toFixed(2)} s`;
  if (v >= 10) return `${v.toFixed(0)} ms`;
  return `${Number(v.toPrecision(2))} ms`;
}

export function pct(v: number | null | undefined): string {
  return v === null || v === undefined ? DASH : `${(v * 100).toFixed(1)}%`;
}

export function int(v: number | null | undefined): string {
  return v === null || v === undefined ? DASH : Math.round(v).toLocaleString('en-US');
}

export function rate(v: number | null | undefined): string {
  if (v === null || v === undefined) return DASH;
  return v >= 10 ? v.toFixed(1) : Number(v.toPrecision(3)).toString();
}

export function time(epochMs: number): string {
  return new Date(epochMs).toISOString().replace('T', ' ').slice(0, 19);
}

/** Escapes text for innerHTML. */
export function esc(text: string | number | null | undefined): string {
  return String(text ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}
