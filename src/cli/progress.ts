/**
 * The `--repeat` progress bar: one line redrawn in place on a terminal, e.g.
 * `[##########----------]  50/100 runs · 2 failed · p50 812ms · 3.1s`. Off a terminal it
 * draws nothing (logs and CI output stay clean); the final report says everything.
 */

export interface ProgressState {
  readonly done: number;
  readonly total: number;
  readonly failed: number;
  /** Median run time so far, in ms, when known. */
  readonly p50Ms?: number;
  readonly elapsedMs: number;
}

const WIDTH = 20;

export function formatProgress(s: ProgressState): string {
  const filled = s.total === 0 ? WIDTH : Math.round((s.done / s.total) * WIDTH);
  const bar = `[${'#'.repeat(filled)}${'-'.repeat(WIDTH - filled)}]`;
  const count = `${String(s.done).padStart(String(s.total).length)}/${s.total} runs`;
  const parts = [`${bar} ${count}`, `${s.failed} failed`];
  if (s.p50Ms !== undefined) parts.push(`p50 ${Math.round(s.p50Ms)}ms`);
  parts.push(`${(s.elapsedMs / 1000).toFixed(1)}s`);
  return parts.join(' · ');
}

export class ProgressBar {
  #last = 0;

  /** `write` receives raw text (no newline added); `enabled` is false off a terminal. */
  constructor(
    private readonly write: (text: string) => void,
    private readonly enabled: boolean,
    /** Least time between redraws, so thousands of fast runs do not flood the terminal. */
    private readonly minIntervalMs = 80,
  ) {}

  update(state: ProgressState, force = false): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (!force && now - this.#last < this.minIntervalMs && state.done < state.total) return;
    this.#last = now;
    // \r returns to the line start; \x1b[K clears what a longer previous line left.
    this.write(`\r${formatProgress(state)}\x1b[K`);
  }

  end(): void {
    if (this.enabled) this.write('\n');
  }
}
