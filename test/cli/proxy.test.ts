import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { proxy } from '../../src/cli/proxy.js';
import type { ProxyCommandOptions } from '../../src/cli/proxy.js';
import type { ProxyServer } from '../../src/proxy/index.js';
import { startMockUpstream } from '../proxy/mock-upstream.js';
import type { MockUpstream } from '../proxy/mock-upstream.js';
import { openStore } from '../../src/store/open.js';
import { capture } from '../server/helpers.js';

let upstream: MockUpstream;
let dir: string;
beforeAll(async () => {
  upstream = await startMockUpstream();
  dir = mkdtempSync(join(tmpdir(), 'flowmeter-proxy-cli-'));
});
afterAll(async () => {
  await upstream.close();
  rmSync(dir, { recursive: true, force: true });
});

async function startProxy(options: ProxyCommandOptions) {
  const io = capture();
  const abort = new AbortController();
  let listening!: (server: ProxyServer) => void;
  const ready = new Promise<ProxyServer>((resolve) => (listening = resolve));
  const exit = proxy(options, io, { signal: abort.signal, onListening: listening, env: {} });
  const server = await Promise.race([ready, exit.then((code) => Promise.reject(new Error(`proxy exited ${code}: ${io.stderr.join(' | ')}`)))]);
  return { io, server, stop: async () => (abort.abort(), exit) };
}

describe('flowmeter proxy', () => {
  it('meters calls into run files and serves /metrics on its port', async () => {
    const runsDir = join(dir, 'runs');
    const p = await startProxy({ port: 0, upstream: [`openai=${upstream.url}`], runsDir, token: 'tok' });
    expect(p.io.stdout.join('\n')).toContain('flowmeter: proxy on http://127.0.0.1:');
    const res = await fetch(`${p.server.url}/openai/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-flowmeter-token': 'tok' }, body: JSON.stringify({ model: 'gpt-4o-mini', messages: [] }) });
    expect(res.status).toBe(200);
    await res.text();
    const metrics = await fetch(`${p.server.url}/metrics`, { headers: { authorization: 'Bearer tok' } });
    expect(await metrics.text()).toContain('flowmeter_proxy_requests_total{upstream="openai",endpoint="chat_completions",code="200"} 1');
    expect(await p.stop()).toBe(0);
    const runs = readdirSync(runsDir);
    expect(runs).toHaveLength(1);
    const lines = readFileSync(join(runsDir, runs[0]!, 'metrics.jsonl'), 'utf8');
    expect(lines).toContain('"prompt_tokens":12');
  });

  it('stores every call in the --db store', async () => {
    const db = join(dir, 'calls.db');
    const p = await startProxy({ port: 0, upstream: [`anthropic=${upstream.url}`], runsDir: false, db });
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${p.server.url}/anthropic/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-flowmeter-run-id': 'stored-run' }, body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 5, messages: [], stream: i === 1 }) });
      await res.text();
    }
    expect(await p.stop()).toBe(0);
    const store = await openStore({ path: db }, { readonly: true });
    try {
      const detail = await store.run('stored-run');
      expect(detail?.calls).toHaveLength(3);
      expect(detail?.calls.map((c) => c.model)).toEqual(['claude-sonnet-4-5', 'claude-sonnet-4-5', 'claude-sonnet-4-5']);
    } finally {
      await store.close();
    }
  });

  it('says in one line when the --db store cannot be opened', async () => {
    const io = capture();
    const code = await proxy({ port: 0, runsDir: false, db: 'postgres://postgres@127.0.0.1:1/nope' }, io, { env: {} });
    expect(code).toBe(1);
    expect(io.stderr).toHaveLength(1);
  });

  it.each([
    [['proxy', '--upstream', 'nourl'], 2, 'is not name=url'],
    [['proxy', '--budget', 'app=* cost_usd<=5'], 2, 'needs a window'],
    [['proxy', '--port', '70000'], 2, 'must be a port'],
  ])('rejects %j with a one-line usage error', async (argv, code, message) => {
    const io = capture();
    expect(await main(argv, io)).toBe(code);
    expect(io.stderr.join('\n')).toContain(message);
    expect(io.stderr.join('\n')).not.toMatch(/\n\s+at /);
  });

  it('is a library too: flowmeter/proxy resolves from the built package', () => {
    const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', "const m = await import('flowmeter/proxy'); console.log(typeof m.createProxy, typeof m.parseBudget)"], { cwd: root, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('function function');
  });

  it('says in one line when the port is taken', async () => {
    const first = await startProxy({ port: 0, runsDir: false });
    const io = capture();
    const code = await proxy({ port: first.server.port, runsDir: false }, io, { env: {} });
    expect(code).toBe(1);
    expect(io.stderr).toEqual([expect.stringContaining('address already in use')]);
    await first.stop();
  });
});
