/**
 * The tools the example workflows call (tools.ais), loaded through flowmeter.config.json.
 * All three run offline, so every example works under --dry-run with no network: a real
 * deployment would swap web_search and fetch_page for ones that call a search API and
 * `fetch`. A module like this one exports a record: each key names a tool, and a bare
 * function `(input, ctx) => result` is the tool's `run`.
 */
import { callSeed, mulberry32 } from '../../src/runtime/providers/random.js';
import { ToolInputError } from '../../src/runtime/tools/errors.js';
import { requiredString } from '../../src/runtime/tools/input.js';
import { hashString, simulatedSearch } from '../../src/runtime/tools/search.js';
import type { Tool } from '../../src/runtime/tools/tool.js';

type Input = Readonly<Record<string, unknown>>;

/** The built-in simulated search's hits, as the JSON text the workflow passes to `plan`. */
function webSearch(input: Input): string {
  return JSON.stringify(simulatedSearch(requiredString('web_search', input, 'query')));
}

const SENTENCES = [
  'Most of the work happens in a small number of well-understood steps.',
  'Measurements taken under load differ from those taken on a quiet machine.',
  'The tail of the distribution, not its median, decides how the system feels.',
  'Early designs traded simplicity for speed; later ones won both back.',
  'A careful reader should check the assumptions before the conclusions.',
  'Several teams reported the same result independently.',
];

/**
 * A deterministic page for any URL, offline. The topic comes from the URL's words, so a
 * hit from web_search (https://example.com/rust-async-1f2e3d) reads as a page about it.
 */
function fetchPage(input: Input): string {
  const url = requiredString('fetch_page', input, 'url');
  const topic = (url.replace(/^https?:\/\/[^/]*/, '').match(/[a-z]{2,}/gi) ?? ['this', 'topic']).slice(0, 5).join(' ');
  const random = mulberry32(callSeed(hashString(url), 0));
  const lines = [`# ${topic}`, '', `Source: ${url}`, ''];
  for (let paragraph = 0; paragraph < 3; paragraph++) {
    const picked = [0, 1, 2].map(() => SENTENCES[Math.floor(random() * SENTENCES.length)] ?? '');
    lines.push(`On ${topic}: ${picked.join(' ')} About ${Math.floor(random() * 90) + 10}% of cases follow this pattern.`, '');
  }
  return lines.join('\n').trimEnd();
}

/**
 * Arithmetic by recursive descent over this grammar — never eval or Function, so a payload
 * can only ever compute a number:
 *   expr := term (("+" | "-") term)*      term := factor (("*" | "/") factor)*
 *   factor := ("+" | "-") factor | number | "(" expr ")"      number := 12 | 1.5 | .5
 */
export function calculate(expression: string): number {
  const text = expression;
  let at = 0;
  let depth = 0;
  const fail = (what: string): never => {
    throw new ToolInputError(`calculator: ${what} at position ${at + 1} of ${JSON.stringify(text)}`);
  };
  const skip = (): void => {
    while (text[at] === ' ' || text[at] === '\t') at++;
  };
  const peek = (): string | undefined => {
    skip();
    return text[at];
  };
  const expr = (): number => {
    let value = term();
    for (let op = peek(); op === '+' || op === '-'; op = peek()) {
      at++;
      value = op === '+' ? value + term() : value - term();
    }
    return value;
  };
  const term = (): number => {
    let value = factor();
    for (let op = peek(); op === '*' || op === '/'; op = peek()) {
      at++;
      const right = factor();
      if (op === '/' && right === 0) fail('division by zero');
      value = op === '*' ? value * right : value / right;
    }
    return value;
  };
  const factor = (): number => {
    const c = peek();
    // Bounded, so a payload of ten thousand "(" fails cleanly instead of overflowing the stack.
    if (++depth > 200) fail('too deeply nested');
    try {
      if (c === '+' || c === '-') {
        at++;
        return c === '-' ? -factor() : factor();
      }
      if (c === '(') {
        at++;
        const value = expr();
        if (peek() !== ')') fail('expected ")"');
        at++;
        return value;
      }
      const number = /^(\d+(\.\d*)?|\.\d+)/.exec(text.slice(at));
      if (number === null) return fail(c === undefined ? 'unexpected end' : `unexpected ${JSON.stringify(c)}`);
      at += number[0].length;
      return Number(number[0]);
    } finally {
      depth--;
    }
  };
  const value = expr();
  if (peek() !== undefined) fail(`unexpected ${JSON.stringify(text[at])}`);
  if (!Number.isFinite(value)) fail('the result is too large');
  // 12 significant digits hide binary rounding: 0.1 + 0.2 answers 0.3, not 0.30000000000000004.
  return Number(value.toPrecision(12));
}

function calculator(input: Input): number {
  return calculate(requiredString('calculator', input, 'expression'));
}

export const tools: Record<string, Tool['run']> = {
  web_search: webSearch,
  fetch_page: fetchPage,
  calculator,
};
