import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import { formatProgress } from '../../src/cli/progress.js';
import type { ApxmMetrics } from '../../src/runtime/execute/index.js';
import { json, startWireServer } from '../runtime/providers/wire-server.js';
import type { WireServer } from '../runtime/providers/wire-server.js';
import { pushgatewayTitle, skipPushgateway, startPushgateway } from '../server/fixtures/pushgateway.js';
import type { RunningPushgateway } from '../server/fixtures/pushgateway.js';

const root = join(import.meta.dirname, '..', '..');
const chain = join(root, 'examples', 'workflows', 'chain.ais');
const dir = mkdtempSync(join(tmpdir(), 'flowmeter-run-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function capture(tty = false): CliIo & { stdout: string[]; stderr: string[]; raw: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const raw: string[] = [];
  return { stdout, stderr, raw, out: (l) => stdout.push(l), err: (l) => stderr.push(l), errRaw: (t) => raw.push(t), errIsTTY: tty };
}

let n = 0;
function base(file = chain): string[] {
  n++;
  return ['run', file, '--dry-run', '--time-scale', '0.005', '--quiet', '--runs-dir', join(dir, `runs-${n}`), '--cache-dir', join(dir, 'cache')];
}

describe('flowmeter run: wrong input gets one clear line and exit code 1', () => {
  it('names a missing --input', async () => {
    const io = capture();
    expect(await main(base(), io)).toBe(1);
    expect(io.stderr.join('\n')).toMatch(/missing --input idea=/);
    expect(io.stderr.join('\n')).not.toMatch(/\n\s+at /);
  });

  it('rejects a malformed --input', async () => {
    const io = capture();
    expect(await main([...base(), '--input', 'idea'], io)).toBe(1);
    expect(io.stderr).toEqual(['flowmeter: --input "idea": expected name=value']);
  });

  it('reports compile errors as file:line:col and runs nothing', async () => {
    const file = join(dir, 'broken.ais');
    writeFileSync(file, 'agent A {\n  @entry flow main(x: str) -> str {\n    ask("hi " + y) -> z\n    return z\n  }\n}\n');
    const io = capture();
    const args = base(file);
    expect(await main([...args, '--input', 'x=1'], io)).toBe(1);
    expect(io.stderr.join('\n')).toContain(`${file}:3:17: error: undefined variable "y"`);
    expect(() => readdirSync(args[args.indexOf('--runs-dir') + 1]!)).toThrow();
  });

  it('answers an unreadable file with one line', async () => {
    const io = capture();
    expect(await main([...base(join(dir, 'nope.ais')), '--input', 'x=1'], io)).toBe(1);
    expect(io.stderr).toEqual([`flowmeter: cannot read ${join(dir, "nope.ais")}: no such file or directory`]);
  });

  it('refuses --dry-run with a paid provider, and an unknown provider', async () => {
    let io = capture();
    expect(await main([...base(), '--input', 'idea=x', '--provider', 'openai'], io)).toBe(1);
    expect(io.stderr[0]).toMatch(/--dry-run runs the simulated provider/);
    io = capture();
    const args = base().filter((a) => a !== '--dry-run');
    expect(await main([...args, '--input', 'idea=x', '--provider', 'mystery'], io)).toBe(1);
    expect(io.stderr[0]).toMatch(/unknown provider "mystery"/);
  });
});

describe('flowmeter run', () => {
  it('exits 1 and reports status failed when every call is rate limited', async () => {
    const io = capture();
    const out = join(dir, 'failed.json');
    expect(await main([...base(), '--input', 'idea=x', '--fail-rate', '1', '--retries', '1', '--emit-metrics', out], io)).toBe(1);
    expect(io.stderr.join('\n')).toMatch(/run failed: Writer\.main:fused\[.*\]: /);
    expect(io.stdout.at(-1)).toMatch(/outcome: provider_error/);
    const m = JSON.parse(readFileSync(out, 'utf8')) as ApxmMetrics;
    expect(m.execution.status).toBe('failed');
    expect(m.execution.nodes_failed).toBe(1);
    // The first attempt and one retry: two requests, both in the llm section.
    expect(m.llm.total_requests).toBe(2);
  });

  it('--repeat writes one apxm object per run and prints the snapshot; the bar is drawn on a terminal', async () => {
    const io = capture(true);
    const out = join(dir, 'repeat.jsonl');
    expect(await main([...base(), '--input', 'idea=x', '--repeat', '6', '--parallel', '3', '--emit-metrics', out], io)).toBe(0);
    const lines = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as ApxmMetrics);
    expect(lines).toHaveLength(6);
    for (const m of lines) expect(m.execution.status).toBe('success');
    expect(io.stdout[0]).toBe('6 runs: 6 succeeded, 0 failed');
    expect(io.stdout.join('\n')).toMatch(/p50/);
    expect(io.raw.at(-1)).toBe('\n');
    expect(io.raw.some((r) => r.startsWith('\r[####################] 6/6 runs · 0 failed'))).toBe(true);
  });

  it('draws no bar off a terminal', async () => {
    const io = capture(false);
    expect(await main([...base(), '--input', 'idea=x', '--repeat', '2'], io)).toBe(0);
    expect(io.raw).toEqual([]);
  });

  it('warns about an --input that is not a parameter, and runs', async () => {
    const io = capture();
    expect(await main([...base(), '--input', 'idea=x', '--input', 'ideaa=y'], io)).toBe(0);
    expect(io.stderr).toEqual(['flowmeter: warning: --input ideaa is not a parameter of Writer.main (idea); ignored']);
  });

  it('formats the progress line', () => {
    expect(formatProgress({ done: 5, total: 10, failed: 1, p50Ms: 812.4, elapsedMs: 3100 })).toBe('[##########----------]  5/10 runs · 1 failed · p50 812ms · 3.1s');
  });

  it('prints each print() as it runs, then the return value and the summary line', async () => {
    const io = capture();
    const routing = join(root, 'examples', 'workflows', 'routing.ais');
    expect(await main([...base(routing), '--input', 'ticket=refund please'], io)).toBe(0);
    expect(io.stdout[0]).toMatch(/^category: /);
    expect(io.stdout.at(-1)).toMatch(/^Execution time: .* \| outcome: success$/);
    expect(io.stdout).toHaveLength(3);
  });
});

describe('flowmeter run --provider openai against a local server speaking Chat Completions', () => {
  let server: WireServer;
  beforeAll(async () => {
    server = await startWireServer();
  });
  afterAll(() => server.close());

  it('sends one request per LLM node and measures what the server reports', async () => {
    server.reply((res, req) => {
      const messages = req.body.messages as { role: string; content: string }[];
      json(res, 200, {
        id: 'c1',
        object: 'chat.completion',
        model: 'gpt-4o-mini-2024-07-18',
        choices: [{ index: 0, message: { role: 'assistant', content: `answer to ${messages.length} messages` }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 40, completion_tokens: 7, total_tokens: 47 },
      });
    });
    const io = capture();
    const out = join(dir, 'openai.json');
    const args = base().filter((a) => a !== '--dry-run');
    const code = await main([...args, '-O0', '--input', 'idea=x', '--provider', 'openai', '--base-url', `${server.url}/v1`, '--emit-metrics', out], io);
    expect(code, io.stderr.join('\n')).toBe(0);
    expect(server.requests).toHaveLength(5);
    expect(server.requests[0]!.url).toBe('/v1/chat/completions');
    expect(server.requests[0]!.body.stream).toBe(true);
    const m = JSON.parse(readFileSync(out, 'utf8')) as ApxmMetrics;
    expect(m.llm).toMatchObject({ total_requests: 5 });
    expect(io.stdout.at(-1)).toMatch(/outcome: success/);
  });
});

describe.skipIf(skipPushgateway)(`flowmeter run --pushgateway to a real Pushgateway${pushgatewayTitle}`, () => {
  let gateway: RunningPushgateway | undefined;
  beforeAll(async () => {
    gateway = await startPushgateway();
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  it('pushes the runs\' metrics when done', async () => {
    const io = capture();
    expect(await main([...base(), '--input', 'idea=x', '--repeat', '3', '--pushgateway', gateway!.url], io)).toBe(0);
    const text = await gateway!.metrics();
    expect(text).toMatch(/flowmeter_runs_finished_total\{[^}]*flow_id="Writer\.main"[^}]*job="flowmeter"[^}]*\} 3/);
  });
});
