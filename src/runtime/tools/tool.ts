/**
 * The tool extension point (STYLE 4): what an AIS capability call or `inv("name", "{json}")`
 * runs. A tool receives one object — a capability's arguments by their declared parameter
 * names, or `inv`'s parsed JSON payload — and returns anything; a non-string result reaches
 * the workflow as its JSON text.
 */

export interface ToolContext {
  /** Aborted when the run times out or is cancelled: pass it to fetch. */
  readonly signal: AbortSignal;
}

export interface Tool {
  readonly name: string;
  readonly description?: string;
  run(input: Readonly<Record<string, unknown>>, ctx: ToolContext): unknown;
}

/** What the executor needs from a registry. */
export interface ToolLookup {
  get(name: string): Tool | undefined;
  /** Every registered name, sorted, for "unknown tool" messages. */
  names(): readonly string[];
}
