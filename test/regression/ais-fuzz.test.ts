/**
 * A grammar fuzzer for the language's newer constructs: random programs (seeded) built from
 * asks, thinks, prints, lets, pipes, nested calls, if/else with and without returns, loops,
 * try/catch, switch on a call, flow calls and messages to a guarded handler, each compiled and run at -O0 and -O1 against a
 * provider that always answers the same word. With equal answers every value is equal at
 * both levels, so the optimizer must leave what a program does untouched: the same output,
 * the same prints in the same order, the same tool calls, and never more LLM requests.
 */
import { describe, expect, it } from 'vitest';
import { createMeter } from '../../src/index.js';
import { compileSource, formatDiagnostics } from '../../src/runtime/ais/index.js';
import { runWorkflow } from '../../src/runtime/execute/index.js';
import { validatePlan } from '../../src/runtime/ir/validate.js';
import type { OptLevel } from '../../src/runtime/ir/plan.js';
import type { CompletionRequest, Provider } from '../../src/runtime/providers/index.js';
import { mulberry32 } from '../../src/runtime/providers/random.js';
import { ListMemory, TestTools } from '../runtime/execute/fixtures.js';
import { planOf } from '../runtime/ir/helpers.js';

class Generator {
  private next = 0;
  private readonly random: () => number;
  constructor(seed: number) {
    this.random = mulberry32(seed);
  }

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)]!;
  }

  private name(): string {
    return `v${this.next++}`;
  }

  private value(scope: readonly string[]): string {
    const v = this.pick(scope);
    return this.random() < 0.3 ? `"${this.pick(['a', 'b', 'c'])}-" + ${v}` : v;
  }

  /** Statements binding names into `scope`; `depth` bounds nesting; may end with a return when `canReturn`. */
  block(scope: string[], depth: number, size: number, canReturn: boolean): string[] {
    const out: string[] = [];
    for (let i = 0; i < size; i++) {
      const roll = this.random();
      if (roll < 0.2) {
        const v = this.name();
        out.push(`ask("q${this.next}: " + ${this.value(scope)}) -> ${v}`);
        scope.push(v);
      } else if (roll < 0.3) {
        const v = this.name();
        out.push(`let ${v} = think("t" + ${this.value(scope)}, ${this.pick(scope)})`);
        scope.push(v);
      } else if (roll < 0.4) {
        out.push(`print("p${this.next++} " + ${this.value(scope)})`);
      } else if (roll < 0.47) {
        const v = this.name();
        out.push(`let ${v} = ${this.value(scope)} |> ask`);
        scope.push(v);
      } else if (roll < 0.52) {
        out.push(`print(ask("nested " + ${this.value(scope)}))`);
      } else if (roll < 0.6) {
        const v = this.name();
        out.push(`lookup(${this.value(scope)}) -> ${v}`);
        scope.push(v);
      } else if (roll < 0.66) {
        const v = this.name();
        out.push(`switch ask("pick " + ${this.pick(scope)}) { case "yes" => ask("y" + ${this.pick(scope)}) default => ask("n") } -> ${v}`);
        scope.push(v);
      } else if (roll < 0.69) {
        const v = this.name();
        out.push(`Helper.twice(${this.value(scope)}) -> ${v}`);
        scope.push(v);
      } else if (roll < 0.72) {
        const v = this.name();
        out.push(`communicate("Peer", "local", ${this.value(scope)}) -> ${v}`);
        scope.push(v);
      } else if (depth > 0 && roll < 0.82) {
        const cond = this.pick([`${this.pick(scope)} == "yes"`, `${this.pick(scope)} != "yes"`, `${this.pick(scope)}`, `!(${this.pick(scope)} == "no") && ${this.pick(scope)}`]);
        const then = this.block([...scope], depth - 1, 1 + Math.floor(this.random() * 3), canReturn);
        const otherwise = this.random() < 0.5 ? this.block([...scope], depth - 1, 1 + Math.floor(this.random() * 3), canReturn) : undefined;
        out.push(`if (${cond}) {`, ...then, otherwise === undefined ? '}' : '} else {', ...(otherwise ?? []), ...(otherwise === undefined ? [] : ['}']));
      } else if (depth > 0 && roll < 0.9) {
        const item = this.name();
        const body = this.block([...scope, item], depth - 1, 1 + Math.floor(this.random() * 2), false);
        out.push(`loop (${item} in ["x", "y", ${this.pick(scope)}]) {`, `print("item " + ${item})`, ...body, '}');
      } else if (depth > 0) {
        const body = this.block([...scope], depth - 1, 1 + Math.floor(this.random() * 2), false);
        const handler = this.block([...scope], depth - 1, 1, false);
        out.push('try {', `flaky(${this.pick(scope)}) -> ${this.name()}`, ...body, '} catch {', `print("caught")`, ...handler, '}');
      } else {
        out.push(`print("leaf " + ${this.value(scope)})`);
      }
    }
    if (canReturn && this.random() < 0.3) out.push(`return "early " + ${this.value(scope)}`);
    // Every name is read, so no warning is about an unused value: print them all at the end of the block.
    return out;
  }

  program(): string {
    const body = this.block(['x'], 2, 4 + Math.floor(this.random() * 5), true);
    return [
      'agent Main {',
      '  @entry flow main(x: str) -> str {',
      ...body.map((l) => `    ${l}`),
      '    return "end " + x',
      '  }',
      '}',
      'agent Helper {',
      '  flow twice(t: str) -> str {',
      '    ask("once " + t) -> a',
      '    return ask("twice " + a)',
      '  }',
      '}',
      'agent Peer {',
      '  on Message { text } if (text != "no") => {',
      '    print("peer got " + text)',
      '    return ask("peer " + text)',
      '  }',
      '}',
      '',
    ].join('\n');
  }
}

class SameWord implements Provider {
  readonly name = 'same-word';
  requests = 0;
  async complete(request: CompletionRequest) {
    this.requests++;
    await Promise.resolve();
    return { text: 'yes', model: request.model, usage: { inputTokens: 1, outputTokens: 1 } };
  }
}

async function runAt(text: string, level: OptLevel) {
  const plan = planOf(text, level);
  expect(validatePlan(plan)).toEqual([]);
  const provider = new SameWord();
  const printed: string[] = [];
  const toolInputs: string[] = [];
  const tools = new TestTools()
    .add('lookup', (input) => {
      toolInputs.push(`lookup ${String(input.input)}`);
      return `found ${String(input.input)}`;
    })
    .add('flaky', (input) => {
      toolInputs.push(`flaky ${String(input.input)}`);
      throw new Error('flaky failed');
    });
  const meter = createMeter({ runsDir: false, log: false, prometheus: false, store: false, env: {}, onWarning: () => undefined });
  try {
    const run = await runWorkflow({ plan, meter, provider, model: 'm', tools, memory: () => new ListMemory(), inputs: { x: 'in' }, print: (t) => printed.push(t), retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1, jitter: 0 } });
    return { ok: run.ok, output: run.output, printed, tools: toolInputs.sort(), requests: provider.requests };
  } finally {
    await meter.close();
  }
}

describe('AIS fuzzer: -O1 does what -O0 does', () => {
  const SEEDS = 150;
  it(`holds for ${SEEDS} random programs`, async () => {
    let branches = 0;
    for (let seed = 1; seed <= SEEDS; seed++) {
      const text = new Generator(seed).program();
      const front = compileSource('fuzz.ais', text);
      const errors = front.diagnostics.filter((d) => d.severity === 'error');
      expect(errors, `seed ${seed}:\n${formatDiagnostics(errors, text)}\n${text}`).toEqual([]);
      const o0 = await runAt(text, 'O0');
      const o1 = await runAt(text, 'O1');
      const where = `seed ${seed}:\n${text}`;
      expect(o0.ok, where).toBe(true);
      expect({ ...o1, requests: 0 }, where).toEqual({ ...o0, requests: 0 });
      expect(o1.requests, where).toBeLessThanOrEqual(o0.requests);
      if (/\bif \(|\bloop \(|\btry \{/.test(text)) branches++;
    }
    // The generator does reach the control-flow constructs.
    expect(branches).toBeGreaterThan(SEEDS / 3);
  });
});
