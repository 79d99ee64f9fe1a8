import { describe, expect, it } from 'vitest';
import { createMeter } from '../../../src/index.js';
import { InMemorySink } from '../../../src/sinks/sink.js';
import type { Provider } from '../../../src/runtime/providers/index.js';
import { ProviderError, SimulatedProvider } from '../../../src/runtime/providers/index.js';
import type { CompletionRequest } from '../../../src/runtime/providers/index.js';
import { LlmCallCollector, apxmMetrics, runWorkflow } from '../../../src/runtime/execute/index.js';
import type { WorkflowOptions } from '../../../src/runtime/execute/index.js';
import { ListMemory, TestTools, flow, irNode, param, plan, ref, text } from './fixtures.js';
import type { Plan } from '../../../src/runtime/ir/plan.js';

/** Answers each request with its last user message, upper-cased, after `delayMs`; records every request. */
class EchoProvider implements Provider {
  readonly name = 'echo';
  readonly requests: CompletionRequest[] = [];
  failuresLeft = 0;
  constructor(readonly delayMs = 5) {}
  async complete(request: CompletionRequest) {
    this.requests.push(request);
    await new Promise((r) => setTimeout(r, this.delayMs));
    if (this.failuresLeft > 0) {
      this.failuresLeft--;
      throw new ProviderError('rate limited', 429, 0.001);
    }
    const user = request.messages.filter((m) => m.role === 'user').at(-1)?.content ?? '';
    return { text: user.toUpperCase(), model: request.model, usage: { inputTokens: 10, outputTokens: 5 } };
  }
}

function setup(p: Plan, extra: Partial<WorkflowOptions> = {}) {
  const sink = new InMemorySink();
  const collector = new LlmCallCollector();
  const meter = createMeter({ runsDir: false, log: false, prometheus: false, sinks: [sink, collector], onWarning: () => undefined });
  const provider = extra.provider ?? new EchoProvider();
  const printed: string[] = [];
  const options: WorkflowOptions = {
    plan: p,
    meter,
    provider,
    model: 'gpt-4o-mini',
    tools: new TestTools(),
    memory: () => new ListMemory(),
    inputs: {},
    print: (t) => printed.push(t),
    retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5, jitter: 0 },
    ...extra,
  };
  return { meter, sink, collector, provider, printed, options };
}

describe('runWorkflow', () => {
  it('runs a chain through the SDK and returns the flow output', async () => {
    const p = plan([
      flow('A.main', ['topic'], [
        irNode(0, { kind: 'llm', op: 'ask', args: [[{ text: 'about ' }, { param: 'topic' }]] }),
        irNode(1, { kind: 'llm', op: 'think', args: [text('refine'), ref(0)] }),
      ], [{ text: '> ' }, { ref: 1 }]),
    ]);
    const { options, sink, collector, meter } = setup(p, { inputs: { topic: 'tides' } });
    const run = await runWorkflow(options);
    expect(run.ok).toBe(true);
    expect(run.output).toBe('> REFINE\n\nCONTEXT 1:\nABOUT TIDES');
    expect(run.scheduler.operations_executed).toBe(2);
    expect(run.scheduler.max_parallelism).toBe(1);
    await meter.flush();
    const calls = collector.take(run.runId);
    expect(calls).toHaveLength(2);
    // The collector keeps what --emit-metrics reads of each call: its latency and tokens.
    expect(sink.ofKind('llm_call').map((c) => c.step_id)).toEqual(['A.main:llm#0', 'A.main:llm#1']);
    expect(calls).toEqual(sink.ofKind('llm_call').map((c) => ({ duration_ms: c.duration_ms, input_tokens: c.input_tokens, output_tokens: c.output_tokens })));
    expect(sink.ofKind('step_finished').map((s) => s.step_id)).toEqual(['A.main:llm#0', 'A.main:llm#1']);
    const m = apxmMetrics({ input: 'x.ais', level: 'O0', run, llmCalls: calls, compileMs: 0.1, artifactMs: 0.01, validationMs: 0.001 });
    expect(m.execution).toMatchObject({ nodes_executed: 2, nodes_failed: 0, status: 'success' });
    expect(m.llm).toMatchObject({ total_requests: 2, total_input_tokens: 20, total_output_tokens: 10 });
    expect(m.llm.p99_latency_ms).toBe(Math.max(...calls.map((c) => c.duration_ms)));
    const expected = ((m.scheduler.per_op_overhead_us * 2) / (m.llm.avg_latency_ms! * 2 * 1000)) * 100;
    expect(Math.abs(m.overhead_ratio_pct! / expected - 1)).toBeLessThan(1e-3);
  });

  it('runs independent nodes in parallel and honours the concurrency limit', async () => {
    const nodes = [0, 1, 2, 3].map((i) => irNode(i, { kind: 'llm', op: 'ask', args: [text(`q${i}`)] }));
    const merge = irNode(4, { kind: 'merge', args: [ref(0), ref(1), ref(2), ref(3)] });
    const p = plan([flow('A.main', [], [...nodes, merge], ref(4))]);
    const wide = await runWorkflow(setup(p).options);
    expect(wide.scheduler.max_parallelism).toBe(4);
    expect(wide.output).toBe('Q0\n\nQ1\n\nQ2\n\nQ3');
    const narrow = await runWorkflow(setup(p, { concurrency: 2 }).options);
    expect(narrow.scheduler.max_parallelism).toBe(2);
  });

  it('retries a rate-limited call and records the retry on the run', async () => {
    const provider = new EchoProvider();
    provider.failuresLeft = 1;
    const p = plan([flow('A.main', [], [irNode(0, { kind: 'llm', op: 'ask', args: [text('hi')] })], ref(0))]);
    const { options, sink, meter } = setup(p, { provider });
    const run = await runWorkflow(options);
    await meter.flush();
    expect(run.ok).toBe(true);
    expect(provider.requests).toHaveLength(2);
    expect(sink.ofKind('retry')).toMatchObject([{ reason: 'rate_limit', step_id: 'A.main:llm#0' }]);
    expect(sink.ofKind('llm_call').map((c) => c.error_type)).toEqual(['rate_limit', null]);
    expect(run.event?.retries).toBe(1);
  });

  it('routes a switch to the matching case, and to the default when no case matches', async () => {
    const mk = (subject: string): Plan =>
      plan([
        flow('A.main', [], [
          irNode(0, { kind: 'merge', args: [text(subject)] }),
          irNode(1, { kind: 'switch', subject: ref(0), cases: [{ label: 'billing', op: { kind: 'merge', args: [text('to billing')] } }] }),
          irNode(2, { kind: 'merge', args: [text('to a human')] }, { fallbackFor: 1 }),
          irNode(3, { kind: 'merge', args: [text('reply: '), ref(1)] }),
        ], ref(3)),
      ]);
    const hit = await runWorkflow(setup(mk(' "Billing." ')).options);
    expect(hit.output).toBe('reply: \n\nto billing');
    const miss = await runWorkflow(setup(mk('weather')).options);
    expect(miss.ok).toBe(true);
    expect(miss.output).toBe('reply: \n\nto a human');
    // The switch that found no case counts as failed, rescued by its default.
    expect(miss.nodesFailed).toBe(1);
  });

  it('fails the run with the failing node named, and counts its dependents as failed', async () => {
    const tools = new TestTools().add('boom', () => {
      throw new TypeError('tool exploded');
    });
    const p = plan([
      flow('A.main', [], [
        irNode(0, { kind: 'tool', via: 'capability', tool: 'boom', params: ['x'], args: [text('1')] }, { label: 'A.main:boom->y' }),
        irNode(1, { kind: 'llm', op: 'ask', args: [ref(0)] }),
      ], ref(1)),
    ]);
    const { options, sink, meter } = setup(p, { tools });
    const run = await runWorkflow(options);
    await meter.flush();
    expect(run.ok).toBe(false);
    expect((run.error as Error).message).toBe('A.main:boom->y: tool exploded');
    expect(run.nodesFailed).toBe(2);
    expect(run.scheduler.operations_failed).toBe(1);
    expect(run.event?.outcome).toBe('tool_error');
    expect(sink.ofKind('tool_call')).toMatchObject([{ tool: 'boom', success: false }]);
    const m = apxmMetrics({ input: 'x', level: 'O0', run, llmCalls: [], compileMs: 0, artifactMs: 0, validationMs: 0 });
    expect(m.execution.status).toBe('failed');
    expect(m.llm).toEqual({ total_requests: 0 });
    expect(m.overhead_ratio_pct).toBeUndefined();
  });

  it('passes inv payloads to tools as objects and capability args by parameter name', async () => {
    const seen: unknown[] = [];
    const tools = new TestTools().add('calc', (input) => {
      seen.push(input);
      return { value: 42 };
    });
    const p = plan([
      flow('A.main', ['q'], [
        irNode(0, { kind: 'tool', via: 'inv', args: [text('calc'), text('{"expression":"6*7"}')] }),
        irNode(1, { kind: 'tool', via: 'capability', tool: 'calc', params: ['query'], args: [param('q')] }),
        irNode(2, { kind: 'tool', via: 'inv', args: [text('calc'), text('not json')] }),
      ], ref(0)),
    ]);
    const run = await runWorkflow(setup(p, { tools, inputs: { q: 'why' } }).options);
    expect(seen).toEqual([{ expression: '6*7' }, { query: 'why' }]);
    expect(run.ok).toBe(false);
    expect((run.error as Error).message).toMatch(/payload is not JSON/);
  });

  it('keeps memory writes ordered before the reads that follow them', async () => {
    const p = plan([
      flow('A.main', [], [
        irNode(0, { kind: 'umem', space: 'stm', store: 'stm', args: [text('remember tea')] }),
        irNode(1, { kind: 'qmem', space: 'stm', store: 'stm', args: [text('tea')] }, { after: [0] }),
      ], ref(1)),
    ]);
    const run = await runWorkflow(setup(p).options);
    expect(run.output).toBe('remember tea');
  });

  it('runs a cross-agent call at -O0 as a nested graph counted on the same clock', async () => {
    const callee = flow('B.helper', ['x'], [
      irNode(0, { kind: 'llm', op: 'ask', args: [[{ text: 'help ' }, { param: 'x' }]] }, { label: 'B.helper:ask' }),
      irNode(1, { kind: 'llm', op: 'ask', args: [text('also')] }, { label: 'B.helper:ask2' }),
      irNode(2, { kind: 'merge', args: [ref(0), ref(1)] }),
    ], ref(2));
    const p = plan([
      flow('A.main', [], [
        irNode(0, { kind: 'call', callee: 'B.helper', args: [text('me')] }),
        irNode(1, { kind: 'print', args: [ref(0)] }),
      ], ref(0)),
      callee,
    ]);
    const { options, printed } = setup(p);
    const run = await runWorkflow(options);
    expect(run.ok).toBe(true);
    expect(run.output).toBe('HELP ME\n\nALSO');
    expect(printed).toEqual(['HELP ME\n\nALSO']);
    // Inner: two asks and a merge; outer: the print. The call node itself is not an operation.
    expect(run.scheduler.operations_executed).toBe(4);
    expect(run.scheduler.max_parallelism).toBe(2);
  });

  it('ends in-flight calls when the run times out', async () => {
    const p = plan([flow('A.main', [], [irNode(0, { kind: 'llm', op: 'ask', args: [text('slow')] })], ref(0))]);
    const provider = new SimulatedProvider({ seed: 1, timeScale: 1 });
    const { options } = setup(p, { provider, budget: { timeoutMs: 30 } });
    const started = Date.now();
    const run = await runWorkflow(options);
    expect(run.ok).toBe(false);
    expect(run.event?.outcome).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
