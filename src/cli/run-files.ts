import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { RunEvent } from '../model/index.js';
import { runEventSchema } from '../model/index.js';
import { RUN_FILE } from '../sinks/index.js';
import { UserError } from './io.js';

export interface StoredRun {
  readonly dir: string;
  readonly event: RunEvent & { readonly summary?: string };
}

export interface RunFilesResult {
  readonly runs: StoredRun[];
  /** Folders whose run.json is missing (run still going, or killed). */
  readonly skipped: { readonly dir: string; readonly why: string }[];
  /** Folders whose run.json is there but unreadable, not JSON, or not a run event. */
  readonly corrupt: { readonly dir: string; readonly why: string }[];
}

/** A run.json is a RunEvent (the model's schema) plus its `summary` line. */
function isRunEvent(value: unknown): value is RunEvent {
  return runEventSchema.safeParse(value).success;
}

/** Reads `<runsDir>/<run>/run.json` for every run folder, oldest first (folder names sort by start time). */
export function readRunFiles(runsDir: string): RunFilesResult {
  if (!existsSync(runsDir) || !statSync(runsDir).isDirectory()) {
    throw new UserError(`${runsDir}: no such runs folder (run something first, or pass --runs-dir)`);
  }
  const runs: StoredRun[] = [];
  const skipped: { dir: string; why: string }[] = [];
  const corrupt: { dir: string; why: string }[] = [];
  for (const name of readdirSync(runsDir).sort()) {
    const dir = join(runsDir, name);
    if (!statSync(dir).isDirectory()) continue;
    const file = join(dir, RUN_FILE);
    if (!existsSync(file)) {
      skipped.push({ dir, why: `no ${RUN_FILE} (still running, or it ended without finishing)` });
      continue;
    }
    try {
      const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
      if (isRunEvent(parsed)) runs.push({ dir, event: parsed });
      else corrupt.push({ dir, why: `${RUN_FILE} is not a run event` });
    } catch (err) {
      corrupt.push({ dir, why: `${RUN_FILE} unreadable: ${err instanceof Error ? err.message : String(err)}` });
    }
  }
  return { runs, skipped, corrupt };
}
