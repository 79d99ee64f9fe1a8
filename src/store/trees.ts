import { QuantileSketch } from '../stats/index.js';
import type { Percentiles } from '../stats/index.js';
import type { Store, StoredRun } from './store.js';

export const TREE_REPORT_FORMAT = 'flowmeter.tree_report.v1';

/** Whole run trees (a root and every run below it) of one root flow. */
export interface TreeGroup {
  /** The flow of the trees' root run. */
  readonly root_flow: string;
  readonly trees: number;
  /** Runs in those trees, roots included. */
  readonly runs: number;
  /** Share of trees whose root succeeded. */
  readonly success_rate: number;
  /** Percentiles over trees whose every run knew its cost. */
  readonly cost_per_tree_usd: Percentiles;
  readonly tokens_per_tree: Percentiles;
  /** The root run's elapsed time: the tree's wall-clock time. */
  readonly time_per_tree_seconds: Percentiles;
  /** Share of trees whose cost is known. */
  readonly cost_coverage: number;
  /** Root outcomes. */
  readonly outcomes: Readonly<Record<string, number>>;
}

export interface TreeReport {
  readonly format: typeof TREE_REPORT_FORMAT;
  readonly since: string;
  readonly until: string;
  readonly store: string;
  readonly groups: readonly TreeGroup[];
}

export interface TreeQuery {
  readonly since: number;
  readonly until: number;
  /** Only trees whose root is of this flow. */
  readonly flow?: string;
}

const PAGE = 1_000;

interface Tree {
  root: StoredRun;
  runs: number;
  cost: number | null;
  tokens: number | null;
}

/**
 * Run trees whose runs started in the window, grouped by their root's flow. Reads raw run
 * rows (rollups carry no tree), so its cost grows with the runs in the window. A tree is the
 * runs sharing a trace id; its root is the run without a parent among them (the earliest if
 * the parent started before the window).
 */
export async function buildTreeReport(store: Store, query: TreeQuery): Promise<TreeReport> {
  const byTrace = new Map<string, StoredRun[]>();
  let cursor: string | null = null;
  do {
    const page = await store.runs({ since: query.since, until: query.until, status: 'finished', limit: PAGE, ...(cursor === null ? {} : { cursor }) });
    for (const run of page.runs) {
      const key = run.trace_id ?? `run:${run.run_id}`;
      const members = byTrace.get(key);
      if (members === undefined) byTrace.set(key, [run]);
      else members.push(run);
    }
    cursor = page.next_cursor;
  } while (cursor !== null);

  const groups = new Map<string, { trees: Tree[] }>();
  for (const members of byTrace.values()) {
    const tree = treeOf(members);
    if (query.flow !== undefined && tree.root.flow_id !== query.flow) continue;
    let group = groups.get(tree.root.flow_id);
    if (group === undefined) groups.set(tree.root.flow_id, (group = { trees: [] }));
    group.trees.push(tree);
  }
  const out = [...groups.entries()].map(([flow, g]) => treeGroup(flow, g.trees));
  out.sort((a, b) => b.trees - a.trees || (a.root_flow < b.root_flow ? -1 : a.root_flow > b.root_flow ? 1 : 0));
  return { format: TREE_REPORT_FORMAT, since: new Date(query.since).toISOString(), until: new Date(query.until).toISOString(), store: store.location, groups: out };
}

function treeOf(members: readonly StoredRun[]): Tree {
  const ids = new Set(members.map((r) => r.run_id));
  let root: StoredRun | undefined;
  let cost: number | null = 0;
  let tokens: number | null = 0;
  for (const run of members) {
    const isRoot = run.parent_run_id === null || !ids.has(run.parent_run_id);
    if (isRoot && (root === undefined || run.start_ms < root.start_ms)) root = run;
    cost = cost === null || run.cost_usd === null ? null : cost + run.cost_usd;
    tokens = tokens === null || run.total_tokens === null ? null : tokens + run.total_tokens;
  }
  // Every group has at least one run and a parent chain ends somewhere: a root exists.
  return { root: root ?? members[0]!, runs: members.length, cost, tokens };
}

function treeGroup(flow: string, trees: readonly Tree[]): TreeGroup {
  const cost = new QuantileSketch();
  const tokens = new QuantileSketch();
  const time = new QuantileSketch();
  const outcomes: Record<string, number> = {};
  let runs = 0;
  let successes = 0;
  let costKnown = 0;
  for (const t of trees) {
    runs += t.runs;
    if (t.root.success === true) successes++;
    const outcome = t.root.outcome ?? 'unknown';
    outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    if (t.cost !== null) {
      cost.add(t.cost);
      costKnown++;
    }
    if (t.tokens !== null) tokens.add(t.tokens);
    if (t.root.elapsed_seconds !== null) time.add(t.root.elapsed_seconds);
  }
  const p = (s: QuantileSketch): Percentiles => ({ p50: s.quantile(0.5), p95: s.quantile(0.95), p99: s.quantile(0.99) });
  return {
    root_flow: flow,
    trees: trees.length,
    runs,
    success_rate: successes / trees.length,
    cost_per_tree_usd: p(cost),
    tokens_per_tree: p(tokens),
    time_per_tree_seconds: p(time),
    cost_coverage: costKnown / trees.length,
    outcomes,
  };
}
