import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { serve } from '../../src/cli/serve.js';
import type { MetricsServer } from '../../src/server/index.js';
import { ServeConfigError, resolveServeSettings } from '../../src/server/index.js';
import { capture } from '../server/helpers.js';

/** Issue 13.15: a public address without a token went unremarked, and the token showed in `ps`. */
const dir = mkdtempSync(join(tmpdir(), 'flowmeter-token-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('serve settings: token and address', () => {
  it('warns when a non-loopback address has no token', () => {
    expect(resolveServeSettings({ addr: '0.0.0.0' }, {}).warnings).toEqual([
      'listening on 0.0.0.0 without a token: anyone who can reach the port can read the metrics; set FLOWMETER_TOKEN or --token-file',
    ]);
    expect(resolveServeSettings({ addr: '::' }, {}).warnings).toHaveLength(1);
    expect(resolveServeSettings({}, { AR_METRICS_ADDR: '0.0.0.0' }).warnings).toHaveLength(1);
  });

  it('does not warn on loopback, or when a token is set', () => {
    for (const addr of ['127.0.0.1', '::1', 'localhost', '[::1]']) expect(resolveServeSettings({ addr }, {}).warnings).toEqual([]);
    expect(resolveServeSettings({ addr: '0.0.0.0' }, { FLOWMETER_TOKEN: 's3cret' }).warnings).toEqual([]);
  });

  it('reads the token from --token-file or FLOWMETER_TOKEN_FILE, without its trailing newline', () => {
    const file = join(dir, 'token');
    writeFileSync(file, 's3cret\n');
    expect(resolveServeSettings({ tokenFile: file }, {}).token).toBe('s3cret');
    expect(resolveServeSettings({}, { FLOWMETER_TOKEN_FILE: file, FLOWMETER_TOKEN: 'other' }).token).toBe('s3cret');
  });

  it('says in one line what is wrong with a token file', () => {
    expect(() => resolveServeSettings({ tokenFile: join(dir, 'missing') }, {})).toThrow(new ServeConfigError(`cannot read the token file ${join(dir, 'missing')}: ENOENT`));
    const empty = join(dir, 'empty');
    writeFileSync(empty, '\n');
    expect(() => resolveServeSettings({ tokenFile: empty }, {})).toThrow(/is empty, which would let anyone in/);
    expect(() => resolveServeSettings({ token: 'a', tokenFile: empty }, {})).toThrow(/not both/);
  });

  it('flowmeter serve --token-file requires that token', async () => {
    const file = join(dir, 'serve-token');
    writeFileSync(file, 'tok3n\n');
    const io = capture();
    const abort = new AbortController();
    let listening!: (server: MetricsServer) => void;
    const ready = new Promise<MetricsServer>((resolve) => (listening = resolve));
    const exit = serve({ port: 0, addr: '127.0.0.1', tokenFile: file, runsDir: join(dir, 'runs') }, io, { signal: abort.signal, onListening: listening, env: {} });
    const server = await ready;
    try {
      expect((await fetch(`${server.url}/metrics`)).status).toBe(401);
      expect((await fetch(`${server.url}/metrics`, { headers: { authorization: 'Bearer tok3n' } })).status).toBe(200);
    } finally {
      abort.abort();
      expect(await exit).toBe(0);
    }
    expect(io.stderr).toEqual([]);
  });
});
