import { describe, expect, it } from 'vitest';
import type { SearchResult } from '../../../src/runtime/tools/index.js';
import { ToolInputError, searchTool, simulatedSearch } from '../../../src/runtime/tools/index.js';

const ctx = { signal: new AbortController().signal };

describe('simulated search', () => {
  it('answers the same query with the same three results every time', () => {
    const first = searchTool.run({ query: 'rust async runtimes' }, ctx) as SearchResult[];
    expect(first).toHaveLength(3);
    expect(searchTool.run({ query: 'rust async runtimes' }, ctx)).toEqual(first);
    for (const result of first) {
      expect(result.title).toMatch(/^Rust async runtimes: /);
      expect(result.url).toMatch(/^https:\/\/([a-z]+\.)?example\.(com|org|net)\/rust-async-runtimes-[0-9a-f]{6}$/);
      expect(result.snippet).toContain('rust async runtimes');
    }
  });

  it('gives different queries different results', () => {
    const urls = (query: string): string[] => simulatedSearch(query).map((r) => r.url.replace(/^.*-/, ''));
    expect(urls('rust async')).not.toEqual(urls('go channels'));
  });

  it('treats case and spacing as the same search', () => {
    expect(simulatedSearch('  Rust   ASYNC ')).toEqual(simulatedSearch('rust async'));
  });

  it('returns k results, result i the same whatever k is', () => {
    const five = searchTool.run({ query: 'tail latency', k: 5 }, ctx) as SearchResult[];
    expect(five).toHaveLength(5);
    expect(five.slice(0, 2)).toEqual(simulatedSearch('tail latency', 2));
    expect(searchTool.run({ query: 'tail latency', k: '1' }, ctx)).toEqual(five.slice(0, 1));
  });

  it('refuses a missing query or a k out of range', () => {
    expect(() => searchTool.run({}, ctx)).toThrow(new ToolInputError('search: input.query is required'));
    expect(() => searchTool.run({ query: 'q', k: 0 }, ctx)).toThrow('search: input.k must be a whole number from 1 to 10, got a number');
    expect(() => searchTool.run({ query: 'q', k: 2.5 }, ctx)).toThrow(ToolInputError);
  });
});
