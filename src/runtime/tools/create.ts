/**
 * Builds the registry a run uses: the built-in tools, then every user module's tools in the
 * order given. A user tool may take a built-in's name and replaces it — that is how a real
 * search replaces the simulated `search` — but two user modules may not both define a name:
 * which one wins would depend on the order of a list, so it is an error naming both files.
 */
import path from 'node:path';
import { ToolConfigError } from './errors.js';
import { httpRequestTool } from './http.js';
import { displayPath, loadToolModule } from './module.js';
import { ToolRegistry } from './registry.js';
import { searchTool } from './search.js';
import type { Tool } from './tool.js';

/** The tools every registry starts with. */
export const BUILTIN_TOOLS: readonly Tool[] = [httpRequestTool, searchTool];

export interface ToolRegistryOptions {
  /** Tool module paths (absolute, or relative to the working directory), loaded in order. */
  readonly modules: readonly string[];
}

/** Throws `ToolConfigError` for a module that cannot be loaded or a name two modules define. */
export async function createToolRegistry(options: ToolRegistryOptions): Promise<ToolRegistry> {
  const registry = new ToolRegistry(BUILTIN_TOOLS);
  const definedBy = new Map<string, string>();
  // Loaded one after another: a module's top-level code may have side effects, and errors
  // should name the first bad module, as the list reads.
  // A module listed twice (a config and a flag naming the same file) is loaded once.
  for (const module of new Set(options.modules.map((m) => path.resolve(m)))) {
    const file = displayPath(module);
    for (const tool of await loadToolModule(module)) {
      const other = definedBy.get(tool.name);
      if (other !== undefined) throw new ToolConfigError(`a tool named "${tool.name}" is defined by both ${other} and ${file}; rename one`);
      definedBy.set(tool.name, file);
      registry.register(tool, { replace: true });
    }
  }
  return registry;
}
