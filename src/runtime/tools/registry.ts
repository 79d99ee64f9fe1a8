/**
 * The in-memory tool registry (STYLE 4): what the executor looks tools up in. Names are
 * unique; registering a name twice is a configuration mistake unless the caller says it
 * means to replace the first tool.
 */
import { ToolConfigError } from './errors.js';
import { describeValue, isRecord } from './input.js';
import type { Tool, ToolLookup } from './tool.js';

/**
 * What a tool name may look like: an AIS identifier, plus `.` and `-` for names only `inv`
 * can reach (`github.search`, `send-mail`).
 */
export const TOOL_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

export interface RegisterOptions {
  /** Replace a tool already registered under the same name instead of throwing. */
  readonly replace?: boolean;
}

/** Why `value` is not a tool, or undefined when it is one. */
export function toolProblem(value: unknown): string | undefined {
  if (!isRecord(value)) return `expected an object with name and run, got ${describeValue(value)}`;
  const { name, run, description } = value;
  if (typeof name !== 'string') return 'its name is not a string';
  if (!TOOL_NAME.test(name)) return `its name ${JSON.stringify(name)} is not a letter or _ followed by letters, digits, _, . or -`;
  if (typeof run !== 'function') return `tool "${name}" has no run function`;
  if (description !== undefined && typeof description !== 'string') return `tool "${name}" has a description that is not a string`;
  return undefined;
}

export class ToolRegistry implements ToolLookup {
  private readonly tools = new Map<string, Tool>();

  constructor(tools: Iterable<Tool> = []) {
    for (const tool of tools) this.register(tool);
  }

  /** Throws `ToolConfigError` for something that is not a tool, or a taken name without `replace`. */
  register(tool: Tool, options: RegisterOptions = {}): this {
    // Reachable from JavaScript tool modules, which the compiler never saw.
    const problem = toolProblem(tool);
    if (problem !== undefined) throw new ToolConfigError(`cannot register a tool: ${problem}`);
    if (this.tools.has(tool.name) && options.replace !== true) {
      throw new ToolConfigError(`a tool named "${tool.name}" is already registered; rename one, or pass { replace: true } to replace it`);
    }
    this.tools.set(tool.name, tool);
    return this;
  }

  get(name: string): Tool | undefined {
    return this.tools.get(name);
  }

  has(name: string): boolean {
    return this.tools.has(name);
  }

  names(): readonly string[] {
    return [...this.tools.keys()].sort();
  }
}
