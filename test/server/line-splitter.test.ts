import { describe, expect, it } from 'vitest';
import { LineSplitter, MAX_LINE_BYTES } from '../../src/server/line-splitter.js';

function split(chunks: Buffer[]): { lines: string[]; overlong: number; splitter: LineSplitter } {
  const splitter = new LineSplitter();
  const lines: string[] = [];
  let overlong = 0;
  for (const chunk of chunks) splitter.push(chunk, (l) => lines.push(l), () => overlong++);
  return { lines, overlong, splitter };
}

describe('LineSplitter', () => {
  it('joins a UTF-8 character that a chunk edge cut in two', () => {
    const bytes = Buffer.from('{"agent":"café"}\n', 'utf8');
    const cut = bytes.indexOf(0xc3) + 1;
    expect(split([bytes.subarray(0, cut), bytes.subarray(cut)]).lines).toEqual(['{"agent":"café"}']);
  });

  it('keeps what follows the last newline, copied, until the line ends', () => {
    const chunk = Buffer.from('a\nbc');
    const splitter = new LineSplitter();
    const lines: string[] = [];
    splitter.push(chunk, (l) => lines.push(l), () => undefined);
    expect(splitter.partial).toBe(true);
    chunk.fill(0x78); // the caller reuses its buffer
    splitter.push(Buffer.from('d\r\n\n'), (l) => lines.push(l), () => undefined);
    expect(lines).toEqual(['a', 'bcd']);
    expect(splitter.partial).toBe(false);
  });

  it('drops a line longer than the limit, counts it once, and resumes at the next line', () => {
    const huge = Buffer.alloc(MAX_LINE_BYTES + 10, 0x61);
    const { lines, overlong } = split([huge.subarray(0, 1000), huge.subarray(1000), Buffer.from('aaa\nnext\n')]);
    expect(overlong).toBe(1);
    expect(lines).toEqual(['next']);
  });
});
