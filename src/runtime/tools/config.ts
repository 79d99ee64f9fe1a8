/**
 * The runtime's config file, `flowmeter.config.json`: which tool modules to load and where
 * long-term memory lives. Plain data (STYLE 5), so the CLI's flags, this file and code can
 * all produce the same `RuntimeConfig`. Relative paths in the file are relative to the file,
 * so a workflow folder can be run from anywhere.
 *
 *   { "tools": "./tools.ts", "memory": { "ltm_path": ".flowmeter/memory/ltm.jsonl" } }
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { displayPath } from './module.js';

export const CONFIG_FILE_NAME = 'flowmeter.config.json';

export interface RuntimeConfig {
  /** The config file read (absolute), or undefined when there was none. */
  readonly path?: string;
  /** Tool module paths, absolute, in the file's order. */
  readonly tools: readonly string[];
  /** The long-term memory file, absolute; undefined leaves the default to the caller. */
  readonly ltmPath?: string;
}

export interface LoadRuntimeConfigOptions {
  /** An explicit config file (relative to the working directory); it must exist. */
  readonly configPath?: string;
  /** Directories to look in for `flowmeter.config.json`, first match wins. */
  readonly searchDirs: readonly string[];
}

/** The config file is missing, malformed, or says something the runtime does not know. */
export class RuntimeConfigError extends Error {
  override readonly name = 'RuntimeConfigError';
}

const modulePath = z.string().min(1, 'must be a non-empty module path');

const schema = z
  .object(
    {
      tools: z.union([modulePath, z.array(modulePath)], { errorMap: () => ({ message: 'must be a module path or an array of module paths' }) }).optional(),
      memory: z
        .object({ ltm_path: z.string().min(1, 'must be a non-empty file path').optional() }, { invalid_type_error: 'must be an object such as { "ltm_path": "..." }' })
        .strict()
        .optional(),
    },
    { invalid_type_error: 'the config must be a JSON object' },
  )
  .strict();

/** `line:col` (1-based) of a character offset. */
function lineCol(text: string, offset: number): string {
  const before = text.slice(0, offset).split('\n');
  return `${before.length}:${(before.at(-1)?.length ?? 0) + 1}`;
}

/**
 * V8 names the offset of a syntax error ("... in JSON at position 12"), or says the input
 * ended early; either gives a `file:line:col` (STYLE 7). Other messages are kept as they are.
 */
function syntaxError(text: string, file: string, err: unknown): RuntimeConfigError {
  const message = err instanceof Error ? err.message : String(err);
  const at = /^(.*?) in JSON at position (\d+)/s.exec(message);
  if (at?.[1] !== undefined && at[2] !== undefined) return new RuntimeConfigError(`${file}:${lineCol(text, Number(at[2]))}: ${at[1]}`);
  if (message.startsWith('Unexpected end of JSON input')) return new RuntimeConfigError(`${file}:${lineCol(text, text.length)}: unexpected end of JSON input`);
  return new RuntimeConfigError(`${file}: ${message}`);
}

function issueMessage(issue: z.ZodIssue): string {
  const where = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
  if (issue.code === z.ZodIssueCode.unrecognized_keys) {
    const allowed = issue.path.length === 0 ? 'tools, memory' : 'ltm_path';
    return `${where}unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}; the keys are ${allowed}`;
  }
  return `${where}${issue.message}`;
}

/** Parses the text of the config file at `file` (absolute); relative paths resolve against its folder. */
export function parseRuntimeConfig(text: string, file: string): RuntimeConfig {
  const shown = displayPath(file);
  let json: unknown;
  try {
    json = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    throw syntaxError(text, shown, err);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new RuntimeConfigError(`${shown}: ${parsed.error.issues.map(issueMessage).join('; ')}`);
  const dir = path.dirname(file);
  const { tools, memory } = parsed.data;
  const list = tools === undefined ? [] : typeof tools === 'string' ? [tools] : tools;
  const ltm = memory?.ltm_path;
  return { path: file, tools: list.map((t) => path.resolve(dir, t)), ...(ltm !== undefined && { ltmPath: path.resolve(dir, ltm) }) };
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

/**
 * Reads `configPath` when given, else the first `flowmeter.config.json` in `searchDirs`
 * (the CLI passes the workflow's folder, then the working directory); no file at all is an
 * empty config. Throws `RuntimeConfigError`.
 */
export async function loadRuntimeConfig(options: LoadRuntimeConfigOptions): Promise<RuntimeConfig> {
  let file: string | undefined;
  if (options.configPath !== undefined) {
    file = path.resolve(options.configPath);
    if (!(await isFile(file))) throw new RuntimeConfigError(`${displayPath(file)}: config file not found`);
  } else {
    for (const dir of options.searchDirs) {
      const candidate = path.resolve(dir, CONFIG_FILE_NAME);
      if (await isFile(candidate)) {
        file = candidate;
        break;
      }
    }
  }
  if (file === undefined) return { tools: [] };
  const text = await readFile(file, 'utf8').catch((err: unknown) => {
    throw new RuntimeConfigError(`${displayPath(file)}: cannot read the config file: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  });
  return parseRuntimeConfig(text, file);
}
