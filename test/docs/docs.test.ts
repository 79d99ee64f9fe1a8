import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { capture } from '../server/helpers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const pages = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes. */
function anchors(markdown: string): Set<string> {
  const out = new Set<string>();
  for (const line of markdown.split('\n')) {
    const m = /^#{1,6} (.*)$/.exec(line);
    if (m === null) continue;
    out.add(m[1]!.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-'));
  }
  return out;
}

/** Markdown outside fenced code blocks. */
function prose(markdown: string): string {
  return markdown.replace(/```[\s\S]*?```/g, '');
}

describe('the README and docs/', () => {
  it.each(pages)('%s: every relative link and anchor resolves', (page) => {
    const text = readFileSync(join(root, page), 'utf8');
    const broken: string[] = [];
    for (const [, target] of prose(text).matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target!)) continue;
      const [path, anchor] = target!.split('#') as [string, string | undefined];
      const file = path === '' ? join(root, page) : resolve(dirname(join(root, page)), path);
      if (!existsSync(file)) {
        broken.push(target!);
        continue;
      }
      if (anchor !== undefined && file.endsWith('.md') && !anchors(readFileSync(file, 'utf8')).has(anchor)) broken.push(target!);
    }
    expect(broken).toEqual([]);
  });

  it('names only commands the CLI has, and docs/cli.md lists every one', async () => {
    const io = capture();
    await main(['--help'], io);
    const help = io.stdout.join('\n');
    const commands = new Set([...help.matchAll(/^ {2}([a-z]+)\b/gm)].map((m) => m[1]!).filter((c) => c !== 'help'));
    expect(commands.size).toBeGreaterThan(10);
    for (const page of pages) {
      // Commands as they are typed: in an inline code span, or at the start of a shell line.
      for (const [, command] of readFileSync(join(root, page), 'utf8').matchAll(/(?:`(?:npx )?|^(?:\$ )?)flowmeter ([a-z]+)\b/gm)) {
        expect(commands, `${page}: flowmeter ${command}`).toContain(command);
      }
    }
    const cli = readFileSync(join(root, 'docs/cli.md'), 'utf8');
    for (const command of commands) expect(cli, `docs/cli.md lists ${command}`).toMatch(new RegExp(`^flowmeter ${command}\\b`, 'm'));
  });
});
