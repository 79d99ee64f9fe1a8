/**
 * Canonical JSON and the plan's content hash.
 *
 * Canonical JSON is JSON.stringify with object keys sorted (by UTF-16 code unit, what
 * `Array.prototype.sort` does) and no whitespace, so one value has one text on every machine
 * and the hash of that text identifies the plan. `undefined` members are left out, as
 * JSON.stringify leaves them out, so an optional field that is absent and one that is
 * `undefined` hash the same. The hash covers every field but `hash` itself.
 */
import { createHash } from 'node:crypto';
import type { Plan } from './plan.js';

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new Error(`canonicalJson: ${value} is not JSON`);
    // Top-level undefined has no JSON text; inside arrays JSON.stringify writes null.
    return JSON.stringify(value) ?? 'null';
  }
  if (Array.isArray(value)) return `[${value.map((v: unknown) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).filter((k) => record[k] !== undefined).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(record[k])}`).join(',')}}`;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** The plan's hash as it should be: sha256 of the canonical JSON of every field except `hash`. */
export function computePlanHash(plan: Omit<Plan, 'hash'> & { readonly hash?: string }): string {
  const { hash: _hash, ...body } = plan;
  return sha256Hex(canonicalJson(body));
}

/** Sets (or replaces) `hash`; every function that builds or changes a plan ends here. */
export function withHash(plan: Omit<Plan, 'hash'> & { readonly hash?: string }): Plan {
  const { hash: _hash, ...body } = plan;
  return { ...body, hash: computePlanHash(body) };
}

/** True when `plan.hash` matches its content: the plan was not edited since it was hashed. */
export function verifyPlanHash(plan: Plan): boolean {
  return typeof plan.hash === 'string' && plan.hash === computePlanHash(plan);
}
