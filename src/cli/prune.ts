import { applyRetention, checkPolicy } from '../store/retention.js';
import type { RetentionPolicy } from '../store/retention.js';
import type { StoreSetting } from '../store/open.js';
import { chooseDb, openForCli } from './db.js';
import type { CliIo } from './io.js';
import { UserError } from './io.js';

export interface PruneOptions {
  readonly db?: StoreSetting;
  readonly retainRaw?: number;
  readonly retainRollups?: number;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** `flowmeter prune`: applies a retention policy once (for cron), and says what went. */
export async function prune(options: PruneOptions, io: CliIo): Promise<number> {
  const policy: RetentionPolicy = {
    ...(options.retainRaw === undefined ? {} : { rawMs: options.retainRaw }),
    ...(options.retainRollups === undefined ? {} : { rollupsMs: options.retainRollups }),
  };
  if (policy.rawMs === undefined && policy.rollupsMs === undefined) throw new UserError('nothing to prune: give --retain-raw and/or --retain-rollups');
  try {
    checkPolicy(policy);
  } catch (err) {
    throw new UserError(err instanceof Error ? err.message : String(err));
  }
  const choice = chooseDb(options.db, options.env);
  if (choice.setting === false) throw new UserError('the store is off (--db or FLOWMETER_DB)');
  const store = await openForCli(choice.setting, { mustExist: true });
  try {
    const result = await applyRetention(store, policy);
    io.out(`pruned ${store.location}: ${result.runs} runs, ${result.calls} calls, ${result.rollups} rollup rows`);
    return 0;
  } finally {
    await store.close();
  }
}
