import { describe, expect, it } from 'vitest';
import type { Tool } from '../../../src/runtime/tools/index.js';
import { ToolConfigError, ToolRegistry } from '../../../src/runtime/tools/index.js';

const tool = (name: string, result: unknown = name): Tool => ({ name, run: () => result });

describe('ToolRegistry', () => {
  it('finds registered tools by name and lists the names sorted', () => {
    const registry = new ToolRegistry([tool('zeta'), tool('alpha')]).register(tool('mid'));
    expect(registry.names()).toEqual(['alpha', 'mid', 'zeta']);
    expect(registry.has('mid')).toBe(true);
    expect(registry.get('alpha')?.run({}, { signal: new AbortController().signal })).toBe('alpha');
    expect(registry.get('missing')).toBeUndefined();
    expect(registry.has('missing')).toBe(false);
  });

  it('refuses a second tool of the same name, saying how to replace it', () => {
    const registry = new ToolRegistry([tool('calc', 1)]);
    expect(() => registry.register(tool('calc', 2))).toThrow(
      new ToolConfigError('a tool named "calc" is already registered; rename one, or pass { replace: true } to replace it'),
    );
    expect(registry.get('calc')?.run({}, { signal: new AbortController().signal })).toBe(1);
  });

  it('replaces a tool when asked to', () => {
    const registry = new ToolRegistry([tool('calc', 1)]).register(tool('calc', 2), { replace: true });
    expect(registry.get('calc')?.run({}, { signal: new AbortController().signal })).toBe(2);
    expect(registry.names()).toEqual(['calc']);
  });

  it('refuses things that are not tools, as a JavaScript caller could pass', () => {
    const registry = new ToolRegistry();
    expect(() => registry.register({ name: 'x' } as unknown as Tool)).toThrow('cannot register a tool: tool "x" has no run function');
    expect(() => registry.register(tool('has space'))).toThrow(/its name "has space" is not a letter or _/);
    expect(() => registry.register({ name: 'd', description: 3, run: () => 0 } as unknown as Tool)).toThrow(/description that is not a string/);
    expect(registry.names()).toEqual([]);
  });
});
