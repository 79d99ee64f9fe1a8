import { durationMs } from '../model/duration.js';
import type { RetentionResult, Store } from './store.js';

/** How long raw rows and rollups are kept, in milliseconds; absent keeps them forever. */
export interface RetentionPolicy {
  readonly rawMs?: number;
  readonly rollupsMs?: number;
}

/** `30d`, `12h`, `400d` (or milliseconds as a number) → milliseconds; a RangeError says what is wrong. */
export function parseRetention(value: string | number, what: string): number {
  if (typeof value === 'number') {
    if (!(value > 0) || !Number.isFinite(value)) throw new RangeError(`${what} must be a positive duration, got ${value}`);
    return value;
  }
  const ms = durationMs(value);
  if (ms === null) throw new RangeError(`${what} "${value}" is not a duration; write e.g. 30d or 400d`);
  return ms;
}

/** Raw rows must not outlive the rollups built from them: old windows report from rollups. */
export function checkPolicy(policy: RetentionPolicy): void {
  if (policy.rawMs !== undefined && policy.rollupsMs !== undefined && policy.rollupsMs < policy.rawMs) {
    throw new RangeError('rollups must be kept at least as long as raw rows (--retain-rollups >= --retain-raw)');
  }
}

/** Applies a policy once, now. */
export function applyRetention(store: Store, policy: RetentionPolicy, now = Date.now()): Promise<RetentionResult> {
  return store.retain({
    ...(policy.rawMs === undefined ? {} : { rawBefore: now - policy.rawMs }),
    ...(policy.rollupsMs === undefined ? {} : { rollupsBefore: now - policy.rollupsMs }),
  });
}

/**
 * Applies a policy now and then every `intervalMs` (default an hour), in the background:
 * SQLite deletes in small chunks between writes, PostgreSQL drops whole partitions. A
 * failure goes to `onError` and the next round tries again. `stop()` is idempotent.
 */
export function startRetention(store: Store, policy: RetentionPolicy, options: { intervalMs?: number; onError?: (err: unknown) => void } = {}): { stop(): void; done: Promise<void> } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<void> = Promise.resolve();
  const round = (): void => {
    if (stopped) return;
    current = applyRetention(store, policy).then(
      () => undefined,
      (err: unknown) => options.onError?.(err),
    );
    void current.then(() => {
      if (stopped) return;
      timer = setTimeout(round, options.intervalMs ?? 3_600_000);
      timer.unref();
    });
  };
  round();
  return {
    stop: () => {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
    },
    get done() {
      return current;
    },
  };
}
