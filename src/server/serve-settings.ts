import { DEFAULT_METRICS_ADDR, DEFAULT_METRICS_PORT } from './metrics-server.js';

export type Env = Readonly<Record<string, string | undefined>>;

/** What a caller (a CLI flag, `meter.serve()` options) said; anything left out comes from the environment. */
export interface ServeSettings {
  readonly port?: number;
  readonly addr?: string;
  readonly token?: string;
}

export interface ResolvedServeSettings {
  readonly enabled: boolean;
  /** `NAME=value` of the variable that switched metrics off, for the message that says so. */
  readonly disabledBy: string | undefined;
  readonly port: number;
  readonly addr: string;
  readonly token: string | undefined;
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
  const token = given.token ?? first(env, ['FLOWMETER_TOKEN'])?.[1];
  // A bearer token is one word (RFC 6750 token68); one with spaces could never be sent.
  if (token !== undefined && /\s/.test(token)) throw new ServeConfigError('the token contains whitespace; a bearer token is one word');
  return { enabled, disabledBy: by, port: portOf(given.port, env), addr, token };
}
