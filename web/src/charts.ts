import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { SeriesAnswer } from './api.js';

const BAD = ['#c62828', '#e0592a', '#d4a017', '#9b51e0', '#6d4c41', '#c2185b', '#17a2b8'];
const PALETTE = ['#2f6fde', '#e0592a', '#2a9d5c', '#9b51e0', '#d4a017', '#17a2b8', '#c2185b', '#6d4c41'];

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
}

/**
 * A time-series chart (uPlot) for one `/api/timeseries` answer, or several answers as
 * named lines (p50/p95/p99). Timestamps are the step buckets; gaps are steps without data.
 */
export function lineChart(host: HTMLElement, title: string, answers: readonly { label: string; answer: SeriesAnswer }[], format: (v: number | null) => string, window: { readonly since: number; readonly until: number }): uPlot {
  host.replaceChildren();
  const lines: { label: string; points: Map<number, number | null> }[] = [];
  for (const { label, answer } of answers) {
    // Tool calls have no model: the '' group of a by-model chart holds no tokens or cost.
    for (const s of answer.series.filter((x) => x.key !== '' || answer.series.length === 1)) {
      lines.push({ label: answers.length > 1 || answer.series.length === 1 ? (answer.series.length > 1 ? `${label} ${s.key}` : label) : s.key, points: new Map(s.points) });
    }
  }
  const xs = [...new Set(lines.flatMap((l) => [...l.points.keys()]))].sort((a, b) => a - b);
  const data: uPlot.AlignedData = [xs.map((x) => x / 1000), ...lines.map((l) => xs.map((x) => l.points.get(x) ?? null))];
  const axis = { stroke: cssVar('--muted'), grid: { stroke: cssVar('--grid'), width: 1 }, ticks: { stroke: cssVar('--grid') } };
  const opts: uPlot.Options = {
    title,
    width: Math.max(280, host.clientWidth || 560),
    height: 200,
    scales: {
      // The chosen window, not the data's extent: one point in a 24h window sits where it happened.
      x: { time: true, range: () => [window.since / 1000, window.until / 1000] },
      // Rates, latencies, costs and counts start at 0.
      y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.15 : 1] },
    },
    legend: { live: true },
    axes: [axis, { ...axis, size: 64, values: (_u, ticks) => ticks.map((t) => format(t)) }],
    series: [{}, ...lines.map((l, i) => ({ label: l.label, stroke: PALETTE[i % PALETTE.length], width: 2, spanGaps: false, points: { show: xs.length < 40 }, value: (_u: uPlot, v: number | null) => format(v) }))],
  };
  const chart = new uPlot(opts, data, host);
  host.dataset.points = String(xs.length);
  host.dataset.lines = String(lines.length);
  return chart;
}

/** Stacked shares as a horizontal bar: the outcome distribution. */
export function shareBar(host: HTMLElement, counts: Readonly<Record<string, number>>): void {
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  host.replaceChildren();
  host.className = 'sharebar';
  Object.entries(counts)
    .sort((a, b) => b[1] - a[1])
    .forEach(([key, n], i) => {
      const seg = document.createElement('span');
      seg.style.flexGrow = String(n);
      seg.style.background = key.startsWith('success') ? '#2a9d5c' : (BAD[i % BAD.length] ?? '#c62828');
      seg.title = `${key}: ${n} of ${total}`;
      seg.dataset.outcome = key;
      seg.dataset.count = String(n);
      seg.textContent = `${key.split('|')[0] ?? key} ${n}`;
      host.append(seg);
    });
}
