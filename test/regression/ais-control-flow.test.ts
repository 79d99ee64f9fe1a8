/**
 * apxm's control flow and the rest of its language as its programs write it: if/else, loop,
 * try/catch, parallel, calls inside expressions and the pipe, switch on a call, list
 * literals, escapes, communicate, agent declarations. Each is run, at -O0 and -O1, against a
 * provider whose answers the test chooses, so the branch taken and the requests made are
 * known exactly.
 */
import { describe, expect, it } from 'vitest';
import { createMeter } from '../../src/index.js';
import { compileSource } from '../../src/runtime/ais/index.js';
import { runWorkflow } from '../../src/runtime/execute/index.js';
import { renderIrText } from '../../src/runtime/ir/emit.js';
import { llmRequests } from '../../src/runtime/ir/count.js';
import type { OptLevel } from '../../src/runtime/ir/plan.js';
import type { CompletionRequest, Provider } from '../../src/runtime/providers/index.js';
import { ListMemory, TestTools } from '../runtime/execute/fixtures.js';
import { entryFlow, planOf } from '../runtime/ir/helpers.js';

/** Answers with the first rule whose key the prompt contains, else "ok"; records every prompt. */
class RuleProvider implements Provider {
  readonly name = 'rules';
  readonly prompts: string[] = [];
  constructor(private readonly rules: Readonly<Record<string, string>>) {}
  async complete(request: CompletionRequest) {
    const prompt = request.messages.filter((m) => m.role === 'user').map((m) => m.content).join('\n');
    this.prompts.push(prompt);
    await Promise.resolve();
    const hit = Object.entries(this.rules).find(([key]) => prompt.includes(key));
    return { text: hit?.[1] ?? 'ok', model: request.model, usage: { inputTokens: 3, outputTokens: 2 } };
  }
}

async function run(text: string, level: OptLevel, rules: Record<string, string>, inputs: Record<string, string> = {}, tools = new TestTools()) {
  const provider = new RuleProvider(rules);
  const printed: string[] = [];
  const meter = createMeter({ runsDir: false, log: false, prometheus: false, store: false, env: {}, onWarning: () => undefined });
  try {
    const result = await runWorkflow({ plan: planOf(text, level), meter, provider, model: 'gpt-4o-mini', tools, memory: () => new ListMemory(), inputs, print: (t) => printed.push(t), retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1, jitter: 0 } });
    return { result, prompts: provider.prompts, printed };
  } finally {
    await meter.close();
  }
}

const diagnostics = (text: string): string[] => compileSource('t.ais', text).diagnostics.map((d) => `${d.line}:${d.col}: ${d.severity}: ${d.message}`);

const ROUTER = `agent Support {
  @entry flow main(q: str) -> str {
    let kind = ask("Classify " + q)
    if (kind == "billing") {
      return ask("Billing answer for " + q)
    } else if (kind == "tech" && q != "") {
      ask("Tech answer for " + q) -> t
      return t |> reflect
    }
    print("no route for " + kind)
    return "unrouted: " + kind
  }
}
`;

describe('if / else', () => {
  for (const level of ['O0', 'O1'] as const) {
    it(`takes one branch, and a return inside it returns from the flow (-${level})`, async () => {
      const billing = await run(ROUTER, level, { Classify: 'Billing.', 'Billing answer': 'refund issued' }, { q: 'charged twice' });
      expect(billing.result.output).toBe('refund issued');
      expect(billing.prompts.map((p) => p.split(' ')[0])).toEqual(['Classify', 'Billing']);
      expect(billing.printed).toEqual([]);

      const tech = await run(ROUTER, level, { Classify: 'tech', 'Tech answer': 'restart it', 'restart it': 'restart it, then update' }, { q: 'crash' });
      expect(tech.result.output).toBe('restart it, then update');
      // The pipe passes the value first: reflect(t).
      expect(tech.prompts).toHaveLength(3);
      expect(tech.prompts[2]).toContain('restart it');

      const none = await run(ROUTER, level, { Classify: 'sales' }, { q: 'price?' });
      expect(none.result.output).toBe('unrouted: sales');
      expect(none.printed).toEqual(['no route for sales']);
      expect(none.prompts).toHaveLength(1);
    });
  }

  it('lowers each block to a flow of its own, called with the values it reads; what follows a returning if runs only when it did not return', () => {
    const plan = planOf(ROUTER, 'O0');
    const main = entryFlow(plan);
    expect(main.nodes.map((n) => n.op.kind)).toEqual(['llm', 'if']);
    expect(main.returnsFrom).toEqual([1]);
    expect(Object.keys(plan.flows).sort()).toEqual([
      'Support.main',
      'Support.main#if@4:5.else',
      'Support.main#if@4:5.else#if@6:12.else',
      'Support.main#if@4:5.else#if@6:12.then',
      'Support.main#if@4:5.then',
    ]);
    expect(plan.flows['Support.main#if@4:5.else']!.params).toEqual(['q', 'kind']);
    // The print and the final return moved into the innermost else.
    expect(plan.flows['Support.main#if@4:5.else#if@6:12.else']!.nodes.map((n) => n.op.kind)).toEqual(['print']);
    // The request count is an upper bound: the larger branch.
    expect(llmRequests(plan)).toBe(3);
    expect(llmRequests(planOf(ROUTER, 'O1'))).toBe(3);
  });

  it('scopes names to their block, and says so when one is read after it', () => {
    const text = 'agent A {\n  flow main(q: str) {\n    if (q) { ask("x") -> inner }\n    print(inner)\n  }\n}\n';
    expect(diagnostics(text)).toEqual([
      '3:26: warning: value "inner" is never used',
      '4:11: error: undefined variable "inner": it is bound inside a block at 3:26, and a block\'s names end with it',
    ]);
  });

  it('reads a condition as text: comparisons ignore case and a final full stop, numbers compare as numbers', async () => {
    const text = 'agent A {\n  flow main(n: str, w: str) {\n    if (n > 9 && !(w == "no")) { print("big") } else { print("small") }\n    if (w) { print("truthy") }\n  }\n}\n';
    expect((await run(text, 'O1', {}, { n: '10', w: 'Yes.' })).printed).toEqual(['big', 'truthy']);
    expect((await run(text, 'O1', {}, { n: '9', w: 'yes' })).printed).toEqual(['small', 'truthy']);
    expect((await run(text, 'O1', {}, { n: '100', w: 'NO' })).printed).toEqual(['small']);
    expect((await run(text, 'O1', {}, { n: '100', w: 'false' })).printed).toEqual(['big']);
  });
});

describe('loop', () => {
  const LOOP = `agent A {
  flow main(topic: str) {
    loop (city in ["Oslo", "Lima"]) {
      print(ask("Weather in " + city + " for " + topic))
    }
    ask("List sub-questions of " + topic) -> subs
    loop (s in subs) { print("answer: " + ask("Answer " + s)) }
  }
}
`;
  for (const level of ['O0', 'O1'] as const) {
    it(`runs its body once per item of a list literal, of a JSON array and of lines (-${level})`, async () => {
      const json = await run(LOOP, level, { 'Weather in Oslo': 'rain', 'Weather in Lima': 'sun', 'List sub-questions': '["q1", "q2", "q3"]', 'Answer q': 'A' }, { topic: 'trips' });
      expect(json.printed.slice(0, 2).sort()).toEqual(['rain', 'sun']);
      expect(json.printed.slice(2)).toEqual(['answer: A', 'answer: A', 'answer: A']);
      expect(json.prompts.filter((p) => p.startsWith('Answer')).sort()).toEqual(['Answer q1', 'Answer q2', 'Answer q3']);

      const lines = await run(LOOP, level, { 'List sub-questions': 'first\n\n second \n' }, { topic: 't' });
      expect(lines.prompts.filter((p) => p.startsWith('Answer')).sort()).toEqual(['Answer first', 'Answer second']);
    });
  }
});

describe('loop width', () => {
  it('runs no more items at once than the run\'s LLM concurrency', async () => {
    let inFlight = 0;
    let most = 0;
    const provider: Provider = {
      name: 'slow',
      async complete(request: CompletionRequest) {
        most = Math.max(most, ++inFlight);
        await new Promise((r) => setTimeout(r, 5));
        inFlight--;
        return { text: 'ok', model: request.model, usage: { inputTokens: 1, outputTokens: 1 } };
      },
    };
    const text = `agent A {\n  flow main() {\n    loop (i in [${Array.from({ length: 12 }, (_, i) => `"${i}"`).join(', ')}]) { print(ask("item " + i)) }\n  }\n}\n`;
    const printed: string[] = [];
    const meter = createMeter({ runsDir: false, log: false, prometheus: false, store: false, env: {}, onWarning: () => undefined });
    try {
      const r = await runWorkflow({ plan: planOf(text, 'O1'), meter, provider, model: 'm', tools: new TestTools(), memory: () => new ListMemory(), inputs: {}, print: (t) => printed.push(t), llmConcurrency: 3 });
      expect(r.ok).toBe(true);
    } finally {
      await meter.close();
    }
    expect(printed).toHaveLength(12);
    expect(most).toBe(3);
  });
});

describe('try / catch', () => {
  const TRY = `agent A {
  flow main(q: str) -> str {
    try {
      lookup(q) -> hit
      return "found " + hit
    } catch {
      return ask("Answer without the lookup: " + q)
    }
  }
}
`;
  it('runs the catch block when the try block fails, and not otherwise', async () => {
    const failing = new TestTools().add('lookup', () => {
      throw new Error('index offline');
    });
    const rescued = await run(TRY, 'O1', { 'without the lookup': 'from memory' }, { q: 'tides' }, failing);
    expect(rescued.result.ok).toBe(true);
    expect(rescued.result.output).toBe('from memory');

    const working = new TestTools().add('lookup', (input) => `doc about ${String(input.input)}`);
    const direct = await run(TRY, 'O1', {}, { q: 'tides' }, working);
    expect(direct.result.output).toBe('found doc about tides');
    expect(direct.prompts).toEqual([]);
  });
});

describe('calls inside expressions, the pipe, switch on a call, parallel', () => {
  it('hoists a nested call before the statement that reads it', () => {
    const text = 'agent A {\n  flow main() -> str {\n    print("Q: " + ask("first"))\n    return ask("b", ask("c"))\n  }\n}\n';
    expect(diagnostics(text)).toEqual([]);
    const main = entryFlow(planOf(text, 'O0'));
    expect(main.nodes.map((n) => n.label)).toEqual(['A.main:ask', 'A.main:print', 'A.main:ask', 'A.main:ask']);
    expect(main.nodes[3]!.op).toMatchObject({ kind: 'llm', args: [[{ text: 'b' }], [{ ref: 2 }]] });
  });

  it('routes on a call: switch ask("…") { case … }', async () => {
    const text = 'agent A {\n  flow main(t: str) -> str {\n    switch ask("Sentiment of " + t) {\n      case "positive" => ask("Thank them")\n      case "negative" => ask("Apologize")\n      default => ask("Ask for details")\n    } -> reply\n    return reply\n  }\n}\n';
    const r = await run(text, 'O1', { Sentiment: 'Negative.', Apologize: 'sorry!' }, { t: 'bad' });
    expect(r.result.output).toBe('sorry!');
    expect(r.prompts).toHaveLength(2);
  });

  it('runs a parallel block as its statements, whose names stay visible after it', () => {
    const text = 'agent A {\n  flow main() -> str {\n    parallel {\n      ask("a") -> x\n      ask("b") -> y\n    }\n    return x + y\n  }\n}\n';
    expect(diagnostics(text)).toEqual([]);
    expect(entryFlow(planOf(text, 'O0')).nodes).toHaveLength(2);
  });

  it('refuses statements after a loop or try whose block returns', () => {
    const text = 'agent A {\n  flow main(q: str) -> str {\n    loop (x in q) { return x }\n    print("after")\n  }\n}\n';
    expect(diagnostics(text)).toEqual(['3:5: error: a loop whose block returns must be the last statement of its block: move what follows into it, or return after it']);
  });

  it('says one thing for blocks nested too deep, and never overflows the stack', () => {
    const deep = `agent A {\n  flow main(x: str) {\n${'if (x) { '.repeat(20_000)}${'} '.repeat(20_000)}\n  }\n}\n`;
    expect(diagnostics(deep)).toEqual([expect.stringMatching(/^3:\d+: error: blocks nested more than 100 deep: move the inner part into a flow of its own$/)]);
    const chain = `agent A {\n  flow main(x: str) {\n${'if (x == "a") { print("a") } else '.repeat(5_000)}{ print("z") }\n  }\n}\n`;
    expect(diagnostics(chain)[0]).toMatch(/error: blocks nested more than 100 deep/);
  });

  it('says one thing for calls nested too deep', () => {
    const text = `agent A {\n  flow main() {\n    print(${'ask('.repeat(150)}"x"${')'.repeat(150)})\n  }\n}\n`;
    const d = diagnostics(text);
    expect(d[0]).toMatch(/error: expression nested more than 100 deep/);
  });
});

describe('values as apxm writes them', () => {
  it('passes list literals and named arguments to a tool as its input fields', async () => {
    const seen: unknown[] = [];
    const tools = new TestTools().add('store_fact', (input) => {
      seen.push(input);
      return 'stored';
    });
    const text = 'agent A {\n  flow main(v: str) {\n    store_fact(text: "verdict " + v, tags: ["review", v], source: "council")\n  }\n}\n';
    await run(text, 'O1', {}, { v: 'ok' }, tools);
    expect(seen).toEqual([{ text: 'verdict ok', tags: '["review","ok"]', source: 'council' }]);
  });

  it('keeps escaped braces literal, while {{name}} interpolates', async () => {
    const text = 'agent A {\n  flow main(n: str) {\n    print("json \\{\\{n\\}\\} vs {{n}}")\n  }\n}\n';
    expect((await run(text, 'O1', {}, { n: '7' })).printed).toEqual(['json {{n}} vs 7']);
  });
});

describe('communicate and agent declarations', () => {
  const TWO = `agent Analyst {
  context: "Writes technical analyses"
  discoverable: [search]
  goals { thorough: "Cover every aspect" priority 2 }
  beliefs { audience: "engineers" }
  on Message { text } if (text != "") => ask("Reply to " + text)

  @entry flow main(topic: str) -> str {
    ask("Analyze " + topic) -> analysis
    communicate(recipient: "Summarizer", protocol: "http", message: analysis) -> ack
    talk("Archive", "http", analysis) -> stored
    return ack + " / " + stored
  }
}

agent Summarizer {
  @entry flow summarize(content: str) -> str {
    return ask("Summarize: " + content)
  }
}
`;
  it("runs the recipient agent's entry flow in process, and calls a tool for an unknown one", async () => {
    expect(diagnostics(TWO)).toEqual([]);
    const seen: unknown[] = [];
    const tools = new TestTools().add('communicate', (input) => {
      seen.push(input);
      return 'queued';
    });
    for (const level of ['O0', 'O1'] as const) {
      seen.length = 0;
      const r = await run(TWO, level, { Analyze: 'deep analysis', 'Summarize: deep analysis': 'short' }, { topic: 'chips' }, tools);
      expect(r.result.output).toBe('short / queued');
      expect(seen).toEqual([{ input: 'Archive', arg1: 'http', arg2: 'deep analysis' }]);
    }
  });

  it('keeps context, discoverable, goals, beliefs and handlers in the plan and shows them', () => {
    const plan = planOf(TWO, 'O1');
    expect(plan.entry).toBe('Analyst.main');
    expect(plan.agents).toEqual({
      Analyst: {
        context: 'Writes technical analyses',
        discoverable: ['search'],
        goals: [{ name: 'thorough', description: 'Cover every aspect', priority: 2 }],
        beliefs: { audience: 'engineers' },
        handlers: [{ event: 'Message', params: ['text'], guard: 'text != ""', statements: 2 }],
      },
    });
    expect(renderIrText(plan)).toContain(';   on Message { text } if (text != "") => 2 statements (runs as flow "on Message" when a message reaches it)');
  });

  it('runs the recipient\'s on Message handler when it has one, guard and all', async () => {
    const text = `agent Desk {
  @entry flow main(q: str) -> str {
    communicate("Helper", "local", q) -> answer
    return "desk: " + answer
  }
}
agent Helper {
  on Message { text, priority } if (text != "") => {
    return ask("Help with " + text + priority)
  }
  flow unused() { print("never") }
}
`;
    expect(diagnostics(text)).toEqual([]);
    for (const level of ['O0', 'O1'] as const) {
      const plan = planOf(text, level);
      expect(Object.keys(plan.flows)).toContain('Helper.on Message');
      const r = await run(text, level, { 'Help with tides': 'tide tables' }, { q: 'tides' });
      expect(r.result.output).toBe('desk: tide tables');
      const empty = await run(text, level, {}, { q: '' });
      // The guard fails: the handler runs nothing and answers "".
      expect(empty.result.output).toBe('desk: ');
      expect(empty.prompts).toEqual([]);
    }
  });

  it("reads apxm's goal forms, and a bad entry costs that entry, not the agent", () => {
    const text = 'agent A {\n  goals { a: "first" priority 2; b: "second" (3), c(priority: 1, description: "third"), d(5) }\n  flow main() { print("x") }\n}\n';
    expect(planOf(text).agents?.A?.goals).toEqual([
      { name: 'a', description: 'first', priority: 2 },
      { name: 'b', description: 'second', priority: 3 },
      { name: 'c', description: 'third', priority: 1 },
      { name: 'd', description: '', priority: 5 },
    ]);
    expect(diagnostics('agent A {\n  goals { g, h: "x" }\n  beliefs { b }\n  flow main() { print("x") }\n}\n')).toEqual([
      '2:12: error: expected \':\' or \'(\' after goal "g", found \',\'',
      "3:15: error: expected '=', found '}'",
    ]);
  });

  it('checks a handler like a flow', () => {
    const text = 'agent A {\n  on Message { a } if (b == "x") => { print(c) }\n  flow main() { print("x") }\n}\n';
    expect(diagnostics(text)).toEqual([
      '2:24: error: undefined variable "b" in the guard of on Message',
      '2:45: error: undefined variable "c"',
    ]);
  });
});
