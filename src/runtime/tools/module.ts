/**
 * Loading a user's tool module. A module exports its tools as `export default` or
 * `export const tools`, either
 *   - an array of tools: `[{ name, description?, run(input, ctx) }]`, or
 *   - a record name → tool or function: `{ calculator: (input) => ... }`, where a bare
 *     function becomes a tool named by its key (and a tool's own name must match its key).
 * TypeScript modules (.ts, .mts, .cts) go through tsx's `tsImport`, loaded only then;
 * JavaScript modules through Node's own `import()`.
 */
import { access } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ToolConfigError } from './errors.js';
import { describeValue, isRecord } from './input.js';
import { TOOL_NAME, toolProblem } from './registry.js';
import type { Tool, ToolContext } from './tool.js';

const TYPESCRIPT = new Set(['.ts', '.mts', '.cts', '.tsx']);
const JAVASCRIPT = new Set(['.js', '.mjs', '.cjs']);

/** A path as messages show it: relative to the working directory when inside it. */
export function displayPath(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file;
}

async function importModule(file: string): Promise<unknown> {
  const ext = path.extname(file).toLowerCase();
  const url = pathToFileURL(file).href;
  if (JAVASCRIPT.has(ext)) return import(url);
  // tsx is loaded only for a TypeScript module, so JavaScript tools need no compiler.
  let tsImport: (specifier: string, parentUrl: string) => Promise<unknown>;
  try {
    ({ tsImport } = await import('tsx/esm/api'));
  } catch (err) {
    throw new ToolConfigError(`${displayPath(file)}: loading a TypeScript tool module needs the tsx package; install it, or compile the module to JavaScript`, { cause: err });
  }
  return tsImport(url, import.meta.url);
}

/** Loads `file` (relative to the working directory) and returns its tools; throws `ToolConfigError`. */
export async function loadToolModule(file: string): Promise<Tool[]> {
  const absolute = path.resolve(file);
  const shown = displayPath(absolute);
  const ext = path.extname(absolute).toLowerCase();
  if (!TYPESCRIPT.has(ext) && !JAVASCRIPT.has(ext)) {
    throw new ToolConfigError(`${shown}: a tool module must be a .js, .mjs, .cjs, .ts, .mts or .cts file`);
  }
  try {
    await access(absolute);
  } catch {
    throw new ToolConfigError(`${shown}: tool module not found`);
  }
  let namespace: unknown;
  try {
    namespace = await importModule(absolute);
  } catch (err) {
    if (err instanceof ToolConfigError) throw err;
    const message = err instanceof Error ? err.message : String(err);
    throw new ToolConfigError(`${shown}: cannot load the tool module: ${message}`, { cause: err });
  }
  return toolsFromExports(namespace, shown);
}

/** A tool, or undefined for something that is not even trying to be one (an array, a string). */
function isToolShaped(value: unknown): boolean {
  return isRecord(value) && ('run' in value || 'name' in value);
}

/**
 * The exports that name the tools. Node hands a CommonJS module's `module.exports` over as
 * `default`; tsx compiles a .ts file outside a `"type": "module"` package to CommonJS, so an
 * ES module's own exports can arrive there too, flagged `__esModule`.
 */
function toolExport(namespace: unknown, file: string): { readonly name: string; readonly value: unknown } {
  let exports = isRecord(namespace) ? namespace : {};
  if (isRecord(exports.default) && exports.default.__esModule === true) exports = exports.default;
  const { default: fallback, tools } = exports;
  if (tools !== undefined) {
    if (fallback !== undefined && fallback !== tools && !(isRecord(fallback) && fallback.tools === tools)) {
      throw new ToolConfigError(`${file}: exports both default and tools; export the tools once, as one or the other`);
    }
    return { name: 'tools', value: tools };
  }
  // `module.exports = { tools: [...] }`, whose keys Node could not list as named exports.
  if (isRecord(fallback) && !isToolShaped(fallback) && (Array.isArray(fallback.tools) || (isRecord(fallback.tools) && !isToolShaped(fallback.tools)))) {
    return { name: 'tools', value: fallback.tools };
  }
  if (fallback !== undefined) return { name: 'default', value: fallback };
  const found = Object.keys(exports);
  const listed = found.length > 0 ? ` (it exports ${found.map((n) => `"${n}"`).join(', ')})` : '';
  throw new ToolConfigError(`${file}: exports no tools${listed}; export default (or export const tools) an array of tools or a record name → tool or function`);
}

/** The tools of an imported module's namespace; `file` names it in messages. */
export function toolsFromExports(namespace: unknown, file: string): Tool[] {
  const { name: exported, value } = toolExport(namespace, file);
  const tools: Tool[] = [];
  if (Array.isArray(value)) {
    value.forEach((item: unknown, i) => {
      const problem = typeof item === 'function' ? 'it is a function; put functions in a record, whose key names the tool' : toolProblem(item);
      if (problem !== undefined) throw new ToolConfigError(`${file}: export "${exported}"[${i}] is not a tool: ${problem}`);
      tools.push(item as Tool);
    });
  } else if (isRecord(value) && !isToolShaped(value)) {
    for (const [key, item] of Object.entries(value)) tools.push(recordTool(file, key, item));
  } else {
    throw new ToolConfigError(`${file}: export "${exported}" must be an array of tools or a record name → tool or function, got ${isToolShaped(value) ? 'a single tool; wrap it in an array' : describeValue(value)}`);
  }
  const seen = new Set<string>();
  for (const tool of tools) {
    if (seen.has(tool.name)) throw new ToolConfigError(`${file}: exports two tools named "${tool.name}"`);
    seen.add(tool.name);
  }
  return tools;
}

function recordTool(file: string, key: string, item: unknown): Tool {
  if (typeof item === 'function') {
    if (!TOOL_NAME.test(key)) throw new ToolConfigError(`${file}: export "${key}" is not a tool: its name is not a letter or _ followed by letters, digits, _, . or -`);
    const run = item as (input: Readonly<Record<string, unknown>>, ctx: ToolContext) => unknown;
    return { name: key, run };
  }
  const problem = toolProblem(item);
  if (problem !== undefined) throw new ToolConfigError(`${file}: export "${key}" is not a tool: ${problem}`);
  const tool = item as Tool;
  if (tool.name !== key) throw new ToolConfigError(`${file}: export "${key}" is a tool named "${tool.name}"; use the same name for both`);
  return tool;
}
