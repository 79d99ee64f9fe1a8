import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { FlowEvent, RunMeta } from '../model/index.js';
import { parseFlowEvent } from '../server/parse-event.js';
import { RUN_FILE } from '../sinks/index.js';
import { EVENTS_FILE } from '../sinks/event-log.js';
import { BatchBuilder } from '../store/batch.js';
import type { StoreSetting } from '../store/open.js';
import type { Store } from '../store/store.js';
import { chooseDb, openForCli } from './db.js';
import type { CliIo } from './io.js';
import { UserError } from './io.js';
import type { StoredRun } from './run-files.js';

export interface ImportOptions {
  readonly runsDir: string;
  readonly db?: StoreSetting;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

const BATCH_EVENTS = 5_000;

/** A finished run rebuilt from run.json alone (a folder written without events.jsonl). */
function eventsFromRunFile(file: string): FlowEvent[] | null {
  let event: StoredRun['event'];
  try {
    event = JSON.parse(readFileSync(file, 'utf8')) as StoredRun['event'];
  } catch {
    return null;
  }
  if (typeof event.run_id !== 'string' || typeof event.outcome !== 'string' || typeof event.started_at !== 'string') return null;
  const meta: RunMeta = {
    run_id: event.run_id,
    flow_id: event.flow_id,
    task_id: event.task_id,
    agent: event.agent,
    exec_mode: event.exec_mode,
    branch: event.branch,
    ...(event.app_id === null ? {} : { app_id: event.app_id }),
    ...(event.session_id === null ? {} : { session_id: event.session_id }),
    ...(event.user_id === null ? {} : { user_id: event.user_id }),
    ...(event.parent_run_id === undefined || event.parent_run_id === null ? {} : { parent_run_id: event.parent_run_id }),
    ...(event.trace_id === undefined || event.trace_id === null ? {} : { trace_id: event.trace_id }),
    attributes: event.attributes,
  };
  return [
    { kind: 'run_started', run: meta, ts: event.started_at },
    { kind: 'run_finished', run: meta, ts: event.finished_at, event, summary: event.summary ?? '' },
  ];
}

export interface LoadResult {
  readonly folders: number;
  readonly skipped: number;
  readonly badLines: number;
  readonly totals: { runsStarted: number; runsFinished: number; calls: number; steps: number; retries: number; duplicates: number };
}

/**
 * Writes every run folder under `dir` into `store`, from its events.jsonl (or run.json when
 * that is all there is). Idempotent: rows already in the store are skipped.
 */
export async function loadRunsFolder(dir: string, store: Store): Promise<LoadResult> {
  let folders = 0;
  let skipped = 0;
  let badLines = 0;
  const totals = { runsStarted: 0, runsFinished: 0, calls: 0, steps: 0, retries: 0, duplicates: 0 };
  for (const name of readdirSync(dir).sort()) {
    const folder = join(dir, name);
    if (!statSync(folder).isDirectory()) continue;
    let events: FlowEvent[] | null = null;
    const log = join(folder, EVENTS_FILE);
    if (existsSync(log)) {
      events = [];
      for (const line of readFileSync(log, 'utf8').split('\n')) {
        if (line.trim() === '') continue;
        const event = parseFlowEvent(line);
        if (event === undefined) badLines++;
        else events.push(event);
      }
    } else if (existsSync(join(folder, RUN_FILE))) {
      events = eventsFromRunFile(join(folder, RUN_FILE));
    }
    if (events === null || events.length === 0) {
      skipped++;
      continue;
    }
    folders++;
    // One builder per folder: call positions restart with each run, as the meter numbered them.
    const builder = new BatchBuilder();
    for (let i = 0; i < events.length; i += BATCH_EVENTS) {
      const result = await store.write(builder.build(events.slice(i, i + BATCH_EVENTS)));
      totals.runsStarted += result.runsStarted;
      totals.runsFinished += result.runsFinished;
      totals.calls += result.calls;
      totals.steps += result.steps;
      totals.retries += result.retries;
      totals.duplicates += result.duplicates;
    }
  }
  return { folders, skipped, badLines, totals };
}

/**
 * `flowmeter import`: loads run folders into the store from their events.jsonl (or run.json
 * when that is all there is). Idempotent: runs and calls already in the store are skipped,
 * so importing twice, or importing what a meter already wrote, changes nothing.
 */
export async function importRuns(options: ImportOptions, io: CliIo): Promise<number> {
  const dir = options.runsDir;
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UserError(`${dir}: no such runs folder (pass --runs-dir)`);
  const choice = chooseDb(options.db, options.env);
  if (choice.setting === false) throw new UserError('the store is off (--db or FLOWMETER_DB); nothing to import into');
  const store = await openForCli(choice.setting);
  let loaded: LoadResult;
  try {
    loaded = await loadRunsFolder(dir, store);
  } finally {
    await store.close();
  }
  const { folders, skipped, badLines, totals } = loaded;
  io.out(
    `imported ${folders} run folder(s) from ${dir} into ${store.location}: ${totals.runsFinished} finished runs, ${totals.calls} calls, ${totals.steps} steps, ${totals.retries} retries new; ${totals.duplicates} rows already there`,
  );
  if (skipped > 0) io.out(`${skipped} folder(s) had neither ${EVENTS_FILE} nor a readable ${RUN_FILE} and were skipped`);
  if (badLines > 0) io.out(`${badLines} line(s) of ${EVENTS_FILE} were not events and were skipped`);
  return 0;
}
