import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFIG_FILE_NAME, RuntimeConfigError, loadRuntimeConfig, parseRuntimeConfig } from '../../../src/runtime/tools/index.js';

describe('loadRuntimeConfig', () => {
  let root: string;
  const write = async (relative: string, text: string): Promise<string> => {
    const full = path.join(root, relative);
    await mkdir(path.dirname(full), { recursive: true });
    await writeFile(full, text);
    return full;
  };
  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'flowmeter-config-'));
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it('resolves tool modules and the LTM path against the config file, not the working directory', async () => {
    const file = await write('project/flowmeter.config.json', '{ "tools": ["./tools.ts", "lib/more.mjs"], "memory": { "ltm_path": "data/ltm.jsonl" } }');
    const config = await loadRuntimeConfig({ configPath: file, searchDirs: [] });
    const dir = path.join(root, 'project');
    expect(config).toEqual({ path: file, tools: [path.join(dir, 'tools.ts'), path.join(dir, 'lib/more.mjs')], ltmPath: path.join(dir, 'data/ltm.jsonl') });
  });

  it('takes the first config found in the search directories', async () => {
    const second = await write('b/flowmeter.config.json', '{ "tools": "./b.ts" }');
    await write('c/flowmeter.config.json', '{ "tools": "./c.ts" }');
    const config = await loadRuntimeConfig({ searchDirs: [path.join(root, 'a-missing'), path.join(root, 'b'), path.join(root, 'c')] });
    expect(config).toEqual({ path: second, tools: [path.join(root, 'b/b.ts')] });
  });

  it('is empty when no directory holds a config file', async () => {
    expect(await loadRuntimeConfig({ searchDirs: [path.join(root, 'nowhere')] })).toEqual({ tools: [] });
  });

  it('refuses an explicit config file that does not exist', async () => {
    const missing = path.join(root, 'missing.json');
    await expect(loadRuntimeConfig({ configPath: missing, searchDirs: [] })).rejects.toThrow(new RuntimeConfigError(`${missing}: config file not found`));
  });

  it('points at the line and column of malformed JSON', async () => {
    const file = await write('syntax/flowmeter.config.json', '{\n  "tools": "./t.ts",\n}\n');
    await expect(loadRuntimeConfig({ searchDirs: [path.dirname(file)] })).rejects.toThrow(new RuntimeConfigError(`${file}:3:1: Expected double-quoted property name`));
    const cut = await write('cut/flowmeter.config.json', '{ "tools": [');
    await expect(loadRuntimeConfig({ configPath: cut, searchDirs: [] })).rejects.toThrow(`${cut}:1:13: unexpected end of JSON input`);
  });
});

describe('parseRuntimeConfig', () => {
  const file = path.join(path.sep, 'p', CONFIG_FILE_NAME);
  it.each([
    ['{ "tool": "./t.ts" }', 'unknown key "tool"; the keys are tools, memory'],
    ['{ "memory": { "ltm": "x", "stm": 1 } }', 'memory: unknown keys "ltm", "stm"; the keys are ltm_path'],
    ['{ "tools": 3 }', 'tools: must be a module path or an array of module paths'],
    ['{ "tools": ["./a.ts", 3] }', 'tools: must be a module path or an array of module paths'],
    ['{ "tools": "" }', 'tools: must be a non-empty module path'],
    ['{ "memory": "ltm.jsonl" }', 'memory: must be an object such as { "ltm_path": "..." }'],
    ['{ "memory": { "ltm_path": "" } }', 'memory.ltm_path: must be a non-empty file path'],
    ['[]', 'the config must be a JSON object'],
  ])('explains %s', (text, message) => {
    expect(() => parseRuntimeConfig(text, file)).toThrow(new RuntimeConfigError(`${file}: ${message}`));
  });

  it('accepts an empty object and a byte-order mark', () => {
    expect(parseRuntimeConfig('\uFEFF{}', file)).toEqual({ path: file, tools: [] });
  });
});
