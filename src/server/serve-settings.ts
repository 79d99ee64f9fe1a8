import { readFileSync } from 'node:fs';
import { DEFAULT_METRICS_ADDR, DEFAULT_METRICS_PORT } from './metrics-server.js';

export type Env = Readonly<Record<string, string | undefined>>;

/** What a caller (a CLI flag, `meter.serve()` options) said; anything left out comes from the environment. */
export interface ServeSettings {
  readonly port?: number;
  readonly addr?: string;
  readonly token?: string;
  /** A file whose content is the token (one trailing newline ignored): unlike `--token`, it does not show in `ps`. */
  readonly tokenFile?: string;
}

export interface ResolvedServeSettings {
  readonly enabled: boolean;
  /** `NAME=value` of the variable that switched metrics off, for the message that says so. */
  readonly disabledBy: string | undefined;
  readonly port: number;
  readonly addr: string;
  readonly token: string | undefined;
  /** Settings that work but are risky, one line each, for the caller to print (e.g. no token on a public address). */
  readonly warnings: readonly string[];
}

/** A setting that cannot be used, from the environment or from code; the message says which and what to do. */
export class ServeConfigError extends Error {
  override readonly name = 'ServeConfigError';
}

const TRUE = new Set(['1', 'true', 'yes', 'on']);
const FALSE = new Set(['0', 'false', 'no', 'off']);

/** The first variable of `names` that is set (non-empty), as [name, value]. */
function first(env: Env, names: readonly string[]): [string, string] | undefined {
  for (const name of names) {
    const value = env[name];
    if (value !== undefined && value.trim() !== '') return [name, value.trim()];
  }
  return undefined;
}

function switchOf(env: Env): { enabled: boolean; by: string | undefined } {
  const set = first(env, ['FLOWMETER_ENABLE_METRICS', 'AR_ENABLE_METRICS']);
  if (set === undefined) return { enabled: true, by: undefined };
  const [name, value] = set;
  const v = value.toLowerCase();
  // The meter reads the same switch the same way (meter/options.ts), so one setting turns both off.
  if (TRUE.has(v)) return { enabled: true, by: undefined };
  if (FALSE.has(v)) return { enabled: false, by: `${name}=${value}` };
  throw new ServeConfigError(`${name}=${value} is not understood; use 1 or 0`);
}

export function checkPort(port: number, source: string): number {
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ServeConfigError(`${source} must be a port, an integer from 0 to 65535 (0 picks a free one), got ${String(port)}`);
  }
  return port;
}

function portOf(given: number | undefined, env: Env): number {
  if (given !== undefined) return checkPort(given, 'port');
  const set = first(env, ['FLOWMETER_METRICS_PORT', 'AR_METRICS_PORT']);
  if (set === undefined) return DEFAULT_METRICS_PORT;
  const [name, value] = set;
  if (!/^\d{1,5}$/.test(value)) throw new ServeConfigError(`${name}=${value} is not a port; use an integer from 0 to 65535`);
  return checkPort(Number(value), name);
}

/**
 * Settings by precedence: what the caller said, then FLOWMETER_*, then ARX's AR_* names
 * (its runbook's deployments keep working), then the defaults (127.0.0.1:9108). ARX binds
 * 0.0.0.0 by default; we do not: exposing metrics to the network is a choice to make
 * with AR_METRICS_ADDR / --addr. The token has no AR_* alias: ARX's endpoint had no auth.
 */
export function resolveServeSettings(given: ServeSettings, env: Env = process.env): ResolvedServeSettings {
  const { enabled, by } = switchOf(env);
  const addr = given.addr ?? first(env, ['FLOWMETER_METRICS_ADDR', 'AR_METRICS_ADDR'])?.[1] ?? DEFAULT_METRICS_ADDR;
  if (addr.trim() === '') throw new ServeConfigError('the listen address is empty; pass an address such as 127.0.0.1 or 0.0.0.0');
  if (given.token !== undefined && given.token.trim() === '') throw new ServeConfigError('the token is empty, which would let anyone in; pass a non-empty token or none');
  if (given.token !== undefined && given.tokenFile !== undefined) throw new ServeConfigError('give the token once: --token or --token-file, not both');
  const tokenFile = given.tokenFile ?? first(env, ['FLOWMETER_TOKEN_FILE'])?.[1];
  const token = given.token ?? (tokenFile !== undefined ? readToken(tokenFile) : first(env, ['FLOWMETER_TOKEN'])?.[1]);
  // A bearer token is one word (RFC 6750 token68); one with spaces could never be sent.
  if (token !== undefined && /\s/.test(token)) throw new ServeConfigError('the token contains whitespace; a bearer token is one word');
  const warnings: string[] = [];
  if (token === undefined && !isLoopback(addr)) {
    warnings.push(`listening on ${addr} without a token: anyone who can reach the port can read the metrics; set FLOWMETER_TOKEN or --token-file`);
  }
  return { enabled, disabledBy: by, port: portOf(given.port, env), addr, token, warnings };
}

/** The token in `path`: its content without one trailing newline (what `echo secret > file` writes). */
function readToken(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ServeConfigError(`cannot read the token file ${path}: ${code ?? (err as Error).message}`);
  }
  const token = text.replace(/\r?\n$/, '');
  if (token.trim() === '') throw new ServeConfigError(`the token file ${path} is empty, which would let anyone in`);
  return token;
}

/** Addresses only this machine can reach. */
function isLoopback(addr: string): boolean {
  const a = addr.trim().toLowerCase().replace(/^\[|\]$/g, '');
  return a === 'localhost' || a === '::1' || /^127\.\d+\.\d+\.\d+$/.test(a) || a === '::ffff:127.0.0.1';
}
