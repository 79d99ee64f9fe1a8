import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { OUTCOMES } from '../model/index.js';
import { timeMs } from '../model/duration.js';
import { MemoryStore } from '../store/memory-store.js';
import { buildReport } from '../store/report.js';
import type { ReportGroup } from '../store/report.js';
import type { Store, StoredCall, StoredRun } from '../store/store.js';
import { GROUP_BY } from '../store/window.js';
import { loadRunsFolder } from '../cli/import.js';

/** Where the answers come from: a store, or a runs folder read afresh on every call. */
export type McpSource = { readonly store: Store } | { readonly runsDir: string };

const MAX_RUNS = 200;
const MAX_CALLS = 100;

/** A tool's answer: JSON for the model to read, the same object as structured content. */
function answer(value: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(value, null, 2) }], structuredContent: value };
}

/** A refusal the agent can act on: one line, `isError`, never a crash of the server. */
function refuse(reason: string): CallToolResult {
  return { content: [{ type: 'text', text: reason }], isError: true };
}

class BadArgument extends Error {}

/** `24h` (back from now) or an ISO time, as epoch ms. */
function timeArg(name: string, text: string | undefined, now: number): number | undefined {
  if (text === undefined) return undefined;
  const ms = timeMs(text, now);
  if (ms === null) throw new BadArgument(`${name}: "${text}" is neither a duration back from now (15m, 24h, 7d) nor an ISO time`);
  return ms;
}

function windowArgs(args: { since?: string | undefined; until?: string | undefined }): { since: number; until: number } {
  const now = Date.now();
  const since = timeArg('since', args.since, now) ?? 0;
  // Rollups are per minute: an open window reaches to the end of the current minute.
  const until = timeArg('until', args.until, now) ?? now + 60_000;
  if (since >= until) throw new BadArgument('the window is empty: since must be before until');
  return { since, until };
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** A run as a list shows it: identity, outcome and totals, times in ISO. */
function runLine(r: StoredRun): Record<string, unknown> {
  return {
    run_id: r.run_id,
    parent_run_id: r.parent_run_id,
    flow_id: r.flow_id,
    agent: r.agent,
    status: r.status,
    outcome: r.outcome,
    model: r.model,
    started_at: iso(r.start_ms),
    elapsed_seconds: r.elapsed_seconds,
    cost_usd: r.cost_usd,
    total_tokens: r.total_tokens,
    llm_calls: r.llm_calls,
    tool_calls: r.tool_calls,
    retries: r.retries,
    error_type: r.error_type,
    summary: r.summary,
  };
}

function callLine(c: StoredCall): Record<string, unknown> {
  return {
    run_id: c.run_id,
    seq: c.seq,
    kind: c.kind,
    name: c.kind === 'llm' ? c.model : c.tool,
    provider: c.provider,
    step_id: c.step_id,
    started_at: iso(c.start_ms),
    duration_ms: c.duration_ms,
    ttft_ms: c.ttft_ms,
    input_tokens: c.input_tokens,
    output_tokens: c.output_tokens,
    cost_usd: c.cost_usd,
    success: c.success,
    error_type: c.error_type,
  };
}

function statsOf(g: ReportGroup): Record<string, unknown> {
  return {
    group: g.group,
    runs: g.runs,
    success_rate: g.success_rate,
    outcomes: g.outcomes,
    cost_per_run_usd: g.cost_per_run_usd,
    time_per_run_seconds: g.time_per_run_seconds,
    tokens_per_run: g.tokens_per_run,
    cost_coverage: g.cost_coverage,
    retry_reasons: g.retry_reasons,
    llm_calls: { requests: g.calls.requests, error_rate: g.calls.error_rate, latency_ms: g.calls.latency_ms, ttft_ms: g.calls.ttft_ms },
    tool_calls: { calls: g.calls.tool_calls, errors: g.calls.tool_errors, latency_ms: g.calls.tool_latency_ms },
    models: g.models,
  };
}

const windowShape = {
  since: z.string().optional().describe('window start: a duration back from now (15m, 24h, 7d) or an ISO time; default all time'),
  until: z.string().optional().describe('window end: a duration back from now or an ISO time; default now'),
};

/**
 * The MCP server behind `flowmeter mcp`: four read-only tools that let an agent read its
 * own metrics — `list_runs`, `get_run`, `run_stats` and `slowest_calls` — from a store, or
 * from a runs folder (loaded into memory afresh on every call, so new runs show up).
 */
export function createMcpServer(source: McpSource, version: string): McpServer {
  const server = new McpServer({ name: 'flowmeter', version });
  let folderStore: MemoryStore | undefined;
  const storeOf = async (): Promise<Store> => {
    if ('store' in source) return source.store;
    folderStore ??= new MemoryStore();
    await loadRunsFolder(source.runsDir, folderStore);
    return folderStore;
  };
  const guarded =
    <A>(fn: (args: A) => Promise<CallToolResult>) =>
    async (args: A): Promise<CallToolResult> => {
      try {
        return await fn(args);
      } catch (err) {
        if (err instanceof BadArgument) return refuse(err.message);
        return refuse(`flowmeter could not answer: ${err instanceof Error ? err.message : String(err)}`);
      }
    };

  server.registerTool(
    'list_runs',
    {
      title: 'List runs',
      description: 'Runs newest first, with outcome, duration, cost, tokens and call counts. Filter by window, flow, agent, model, outcome, app or session; page with next_cursor.',
      inputSchema: {
        ...windowShape,
        flow: z.string().optional(),
        agent: z.string().optional(),
        model: z.string().optional(),
        outcome: z.enum(OUTCOMES).optional(),
        app: z.string().optional(),
        session: z.string().optional(),
        limit: z.number().int().min(1).max(MAX_RUNS).optional().describe(`runs per page, default 20, at most ${MAX_RUNS}`),
        cursor: z.string().optional().describe('next_cursor of the previous page'),
      },
      outputSchema: { runs: z.array(z.record(z.unknown())), next_cursor: z.string().nullable() },
    },
    guarded(async (args) => {
      const store = await storeOf();
      const hasWindow = args.since !== undefined || args.until !== undefined;
      const w = hasWindow ? windowArgs(args) : undefined;
      const page = await store.runs({
        ...(w === undefined ? {} : { since: w.since, until: w.until }),
        ...(args.flow === undefined ? {} : { flow: args.flow }),
        ...(args.agent === undefined ? {} : { agent: args.agent }),
        ...(args.model === undefined ? {} : { model: args.model }),
        ...(args.outcome === undefined ? {} : { outcome: args.outcome }),
        ...(args.app === undefined ? {} : { app: args.app }),
        ...(args.session === undefined ? {} : { session: args.session }),
        ...(args.cursor === undefined ? {} : { cursor: args.cursor }),
        limit: args.limit ?? 20,
      });
      return answer({ runs: page.runs.map(runLine), next_cursor: page.next_cursor });
    }),
  );

  server.registerTool(
    'get_run',
    {
      title: 'Get one run',
      description: 'One run with every field, its summary line, its steps, LLM and tool calls (timing, tokens, cost, errors), retries and child runs.',
      inputSchema: { run_id: z.string().min(1) },
    },
    guarded(async ({ run_id }: { run_id: string }) => {
      const store = await storeOf();
      const detail = await store.run(run_id);
      if (detail === null) return refuse(`no run ${JSON.stringify(run_id)} in ${'store' in source ? source.store.location : source.runsDir}; list_runs shows the ids there are`);
      return answer({
        run: { ...detail.run, started_at: iso(detail.run.start_ms), ended_at: iso(detail.run.end_ms) },
        steps: detail.steps.map((s) => ({ step_id: s.step_id, started_at: iso(s.start_ms), duration_ms: s.duration_ms, success: s.success, error: s.error })),
        calls: detail.calls.map(callLine),
        retries: detail.retries,
        children: detail.children.map(runLine),
      });
    }),
  );

  server.registerTool(
    'run_stats',
    {
      title: 'Run statistics',
      description: 'p50/p95/p99 of cost, time and tokens per run, success rate, outcomes, retries, LLM latency and time to first token and per-model totals over a window, optionally one group per flow, model, agent, provider, outcome, app or day. Percentiles come from sketches (within 1%).',
      inputSchema: { ...windowShape, by: z.enum(GROUP_BY).optional(), flow: z.string().optional() },
    },
    guarded(async (args) => {
      const store = await storeOf();
      const w = windowArgs(args);
      const report = await buildReport(store, { since: w.since, until: w.until, ...(args.by === undefined ? {} : { by: args.by }), ...(args.flow === undefined ? {} : { filters: { flow: args.flow } }) });
      return answer({ since: report.since, until: report.until, by: report.by, groups: report.groups.map(statsOf) });
    }),
  );

  server.registerTool(
    'slowest_calls',
    {
      title: 'Slowest calls',
      description: 'The slowest LLM and tool calls in a window, slowest first, with their run, step, tokens, cost and error.',
      inputSchema: {
        ...windowShape,
        kind: z.enum(['llm', 'tool']).optional(),
        flow: z.string().optional(),
        model: z.string().optional(),
        limit: z.number().int().min(1).max(MAX_CALLS).optional().describe(`default 10, at most ${MAX_CALLS}`),
      },
    },
    guarded(async (args) => {
      const store = await storeOf();
      const w = windowArgs(args);
      const calls = await store.calls({
        since: w.since,
        until: w.until,
        order: 'slowest',
        limit: args.limit ?? 10,
        ...(args.kind === undefined ? {} : { kind: args.kind }),
        ...(args.flow === undefined ? {} : { flow: args.flow }),
        ...(args.model === undefined ? {} : { model: args.model }),
      });
      return answer({ calls: calls.map(callLine) });
    }),
  );
  return server;
}
