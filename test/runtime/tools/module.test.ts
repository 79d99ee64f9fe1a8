import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tool } from '../../../src/runtime/tools/index.js';
import { ToolConfigError, createToolRegistry, loadToolModule, toolsFromExports } from '../../../src/runtime/tools/index.js';

const ctx = { signal: new AbortController().signal };
const call = (tool: Tool | undefined, input: Record<string, unknown>): unknown => tool?.run(input, ctx);

const TS_MODULE = `
interface Input { readonly [key: string]: unknown }
const shout = (input: Input): string => String(input.text).toUpperCase();
export default {
  shout,
  add: { name: 'add', description: 'adds', run: (input: Input): number => Number(input.a) + Number(input.b) },
};
`;

describe('loadToolModule', () => {
  let dir: string;
  const file = async (name: string, text: string): Promise<string> => {
    const full = path.join(dir, name);
    await mkdir(path.dirname(full), { recursive: true });
    await writeFile(full, text);
    return full;
  };
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'flowmeter-tools-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('loads a TypeScript module whose default export is a record of functions and tools', async () => {
    const tools = await loadToolModule(await file('plain/tools.ts', TS_MODULE));
    expect(tools.map((t) => t.name)).toEqual(['shout', 'add']);
    expect(call(tools[0], { text: 'hi' })).toBe('HI');
    expect(call(tools[1], { a: 2, b: 3 })).toBe(5);
    expect(tools[1]?.description).toBe('adds');
  });

  it('loads a TypeScript ES module inside a "type": "module" package the same way', async () => {
    await file('esm/package.json', '{ "type": "module" }');
    const tools = await loadToolModule(await file('esm/tools.mts', TS_MODULE));
    expect(call(tools.find((t) => t.name === 'shout'), { text: 'esm' })).toBe('ESM');
  });

  it('loads a JavaScript module whose named export tools is an array', async () => {
    const js = await file('js/tools.mjs', `export const tools = [{ name: 'echo', run: (input, ctx) => ({ input, aborted: ctx.signal.aborted }) }];`);
    const [echo, ...rest] = await loadToolModule(js);
    expect(rest).toEqual([]);
    expect(call(echo, { x: 1 })).toEqual({ input: { x: 1 }, aborted: false });
  });

  it('loads a CommonJS module that assigns module.exports', async () => {
    const cjs = await file('cjs/tools.cjs', `module.exports = { tools: { twice: (input) => input.n * 2 } };`);
    const tools = await loadToolModule(cjs);
    expect(call(tools[0], { n: 21 })).toBe(42);
  });

  it('names the file and the export that is not a tool', async () => {
    const bad = await file('bad/tools.ts', `export const tools = { ok: () => 1, x: 42 };`);
    await expect(loadToolModule(bad)).rejects.toThrow(new ToolConfigError(`${bad}: export "x" is not a tool: expected an object with name and run, got a number`));
  });

  it('says what a module without tools exports', async () => {
    const none = await file('none/tools.mjs', `export const calculator = () => 1;`);
    await expect(loadToolModule(none)).rejects.toThrow(/tools\.mjs: exports no tools \(it exports "calculator"\); export default/);
  });

  it('reports a missing file, an unknown extension and a syntax error with the file name', async () => {
    await expect(loadToolModule(path.join(dir, 'nope.ts'))).rejects.toThrow(`${path.join(dir, 'nope.ts')}: tool module not found`);
    await expect(loadToolModule(await file('tools.json', '{}'))).rejects.toThrow(/tools\.json: a tool module must be a \.js, .*\.ts/);
    const broken = await file('broken/tools.ts', 'export const tools = ;');
    await expect(loadToolModule(broken)).rejects.toThrow(new RegExp(`^${broken}: cannot load the tool module: .*Unexpected ";"`, 's'));
  });

  it('creates a registry of the built-ins plus every module, a user tool replacing a built-in', async () => {
    const a = await file('reg/a.mjs', `export default { search: () => 'real search', calc: () => 1 };`);
    const b = await file('reg/b.ts', `export default [{ name: 'other', run: (): number => 2 }];`);
    const registry = await createToolRegistry({ modules: [a, b, a] });
    expect(registry.names()).toEqual(['calc', 'http_request', 'other', 'search']);
    expect(call(registry.get('search'), { query: 'q' })).toBe('real search');
  });

  it('refuses two modules that define the same tool, naming both', async () => {
    const a = await file('dup/a.mjs', `export default { calc: () => 1 };`);
    const b = await file('dup/b.mjs', `export default { calc: () => 2 };`);
    await expect(createToolRegistry({ modules: [a, b] })).rejects.toThrow(`a tool named "calc" is defined by both ${a} and ${b}; rename one`);
  });
});

describe('toolsFromExports', () => {
  it.each<[namespace: unknown, message: string]>([
    [{ tools: [{ name: 'a', run: () => 1 }], default: { b: () => 2 } }, 'm.ts: exports both default and tools; export the tools once, as one or the other'],
    [{ default: { name: 'a', run: () => 1 } }, 'm.ts: export "default" must be an array of tools or a record name → tool or function, got a single tool; wrap it in an array'],
    [{ tools: [() => 1] }, 'm.ts: export "tools"[0] is not a tool: it is a function; put functions in a record, whose key names the tool'],
    [{ tools: { a: { name: 'b', run: () => 1 } } }, 'm.ts: export "a" is a tool named "b"; use the same name for both'],
    [{ tools: [{ name: 'a', run: () => 1 }, { name: 'a', run: () => 2 }] }, 'm.ts: exports two tools named "a"'],
    [{ tools: 'calculator' }, 'm.ts: export "tools" must be an array of tools or a record name → tool or function, got the string "calculator"'],
    [{ tools: { 'bad name': () => 1 } }, 'm.ts: export "bad name" is not a tool: its name is not a letter or _ followed by letters, digits, _, . or -'],
  ])('explains what is wrong with %j', (namespace, message) => {
    expect(() => toolsFromExports(namespace, 'm.ts')).toThrow(new ToolConfigError(message));
  });
});
