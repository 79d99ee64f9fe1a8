import { existsSync, statSync } from 'node:fs';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { Command } from 'commander';
import { createMcpServer } from '../mcp/server.js';
import type { McpSource } from '../mcp/server.js';
import type { StoreSetting } from '../store/open.js';
import type { Store } from '../store/store.js';
import { DB_HELP, chooseDb, dbOption, openForCli, storeExists } from './db.js';
import type { CliIo } from './io.js';
import { UserError } from './io.js';

export interface McpOptions {
  readonly db?: StoreSetting;
  readonly runsDir?: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/**
 * `flowmeter mcp`: a Model Context Protocol server on stdin/stdout answering from the store
 * (or, with --runs-dir or without a store, a runs folder). stdout carries protocol messages
 * only; anything else goes to stderr. Ends when the client closes the pipe.
 */
export async function mcp(options: McpOptions, version: string, runsDirDefault: string): Promise<number> {
  let store: Store | undefined;
  let source: McpSource;
  const choice = options.runsDir === undefined ? chooseDb(options.db, options.env) : undefined;
  if (choice !== undefined && choice.setting !== false && (choice.explicit || storeExists(choice.setting))) {
    store = await openForCli(choice.setting, { mustExist: choice.explicit });
    source = { store };
  } else {
    const dir = options.runsDir ?? runsDirDefault;
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UserError(`${dir}: no store and no such runs folder (pass --db or --runs-dir)`);
    source = { runsDir: dir };
  }
  const server = createMcpServer(source, version);
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
    process.stdin.once('end', () => resolve());
  });
  await server.connect(transport);
  await closed;
  await server.close().catch(() => undefined);
  await store?.close();
  return 0;
}

export function registerMcp(cli: Command, io: CliIo, setCode: (code: number) => void, version: string, runsDirDefault: string): void {
  void io;
  cli
    .command('mcp')
    .description('a Model Context Protocol server (stdio) with list_runs, get_run, run_stats and slowest_calls, so an agent can read its own metrics')
    .option('--db <store>', DB_HELP, dbOption)
    .option('--runs-dir <dir>', `answer from this runs folder instead of the store (used anyway when there is no store: ${runsDirDefault})`)
    .action(async (opts: McpOptions) => setCode(await mcp(opts, version, runsDirDefault)));
}
