import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { calculate } from '../../../examples/workflows/tools.js';
import type { SearchResult, Tool } from '../../../src/runtime/tools/index.js';
import { ToolInputError, createToolRegistry, loadRuntimeConfig } from '../../../src/runtime/tools/index.js';

const workflows = path.resolve(import.meta.dirname, '../../../examples/workflows');
const ctx = { signal: new AbortController().signal };

describe('the example workflows tool module', () => {
  it('is named by the examples config and gives tools.ais every tool it calls', async () => {
    const config = await loadRuntimeConfig({ searchDirs: [workflows] });
    expect(config.tools).toEqual([path.join(workflows, 'tools.ts')]);
    expect(config.ltmPath).toBe(path.join(workflows, '.flowmeter/memory/ltm.jsonl'));
    const registry = await createToolRegistry({ modules: config.tools });
    expect(registry.names()).toEqual(['calculator', 'fetch_page', 'http_request', 'search', 'web_search']);
    const run = (name: string, input: Record<string, unknown>): unknown => (registry.get(name) as Tool).run(input, ctx);

    expect(run('calculator', { expression: '2 * 21' })).toBe(42);
    const hits = JSON.parse(run('web_search', { query: 'tail latency' }) as string) as SearchResult[];
    expect(hits).toHaveLength(3);
    const page = run('fetch_page', { url: hits[0]!.url }) as string;
    expect(page).toMatch(/^# tail latency/);
    expect(run('fetch_page', { url: hits[0]!.url })).toBe(page);
    expect(run('fetch_page', { url: hits[1]!.url })).not.toBe(page);
  });
});

describe('calculate', () => {
  it.each([
    ['2 * 21', 42],
    ['1 + 2 * 3', 7],
    ['(1 + 2) * 3', 9],
    ['10 / 4 - 1', 1.5],
    ['-(2.5 + .5) * -2', 6],
    ['0.1 + 0.2', 0.3],
    ['8 / 2 / 2', 2],
    ['2 - 3 - 4', -5],
    [' 7 ', 7],
  ])('evaluates %s to %d', (expression, value) => {
    expect(calculate(expression)).toBe(value);
  });

  it.each([
    ['2 ** 3', 'calculator: unexpected "*" at position 4 of "2 ** 3"'],
    ['1 / (2 - 2)', 'calculator: division by zero at position 12 of "1 / (2 - 2)"'],
    ['(1 + 2', 'calculator: expected ")" at position 7 of "(1 + 2"'],
    ['process.exit(1)', 'calculator: unexpected "p" at position 1 of "process.exit(1)"'],
    ['1 + ', 'calculator: unexpected end at position 5 of "1 + "'],
    ['3 4', 'calculator: unexpected "4" at position 3 of "3 4"'],
  ])('refuses %s', (expression, message) => {
    expect(() => calculate(expression)).toThrow(new ToolInputError(message));
  });

  it('refuses nesting deep enough to overflow the stack, and results too large to be a number', () => {
    expect(() => calculate('('.repeat(10_000) + '1' + ')'.repeat(10_000))).toThrow(/too deeply nested/);
    expect(() => calculate(`${'9'.repeat(300)} * ${'9'.repeat(300)}`)).toThrow(/the result is too large/);
  });
});
