/**
 * The plan on disk: canonical JSON, and the compile cache `flowmeter run` reads first.
 *
 * The cache key is sha256(compilerVersion \0 level \0 source text): content-addressed, so an
 * edited source or another flowmeter version misses, and a copy of a workflow in another
 * folder hits. The artifact `<cacheDir>/<key>.plan.json` is written to a temporary file
 * and renamed over the target (rename is atomic within a directory on POSIX and Windows),
 * so a crash leaves the old plan or the new one, never a torn file. A hit is verified
 * (format, hash, compiler, level, source digest) and never trusted otherwise: a file that
 * fails is recompiled and overwritten. A cache that cannot be written is not an error —
 * the plan is still returned, with `cacheError` saying why.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Diagnostic } from '../ais/index.js';
import { compilePlan } from './compile-plan.js';
import { canonicalJson, computePlanHash, sha256Hex, withHash } from './plan-hash.js';
import type { OptLevel, Plan } from './plan.js';
import { PLAN_FORMAT } from './plan.js';

export const DEFAULT_PLAN_CACHE_DIR = '.flowmeter/cache/plans';

/** A plan file that cannot be used: not JSON, not a plan, or edited since it was hashed. */
export class PlanFormatError extends Error {
  override readonly name = 'PlanFormatError';
}

export function serializePlan(plan: Plan): string {
  return `${canonicalJson(plan)}\n`;
}

export function parsePlan(text: string): Plan {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new PlanFormatError(`not a plan: invalid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new PlanFormatError('not a plan: expected a JSON object');
  const record = value as Record<string, unknown>;
  if (record.format !== PLAN_FORMAT) {
    throw new PlanFormatError(`not a plan: format is ${JSON.stringify(record.format) ?? 'missing'}, expected "${PLAN_FORMAT}"`);
  }
  if (typeof record.hash !== 'string') throw new PlanFormatError('not a plan: no "hash"');
  const plan = value as Plan;
  const actual = computePlanHash(plan);
  if (actual !== plan.hash) throw new PlanFormatError(`plan hash mismatch: the plan was edited or corrupted (recorded ${plan.hash}, computed ${actual})`);
  return plan;
}

export interface LoadOrCompileOptions {
  readonly file: string;
  readonly text: string;
  readonly level: OptLevel;
  readonly compilerVersion: string;
  /** Default `.flowmeter/cache/plans`; created on demand. */
  readonly cacheDir?: string;
  /** Compile without reading or writing the cache. */
  readonly noCache?: boolean;
}

export interface LoadOrCompileResult {
  /** Absent when the source has errors (see `diagnostics`). */
  readonly plan?: Plan;
  /** On a miss the front end's errors and warnings; on a hit the plan's warnings. */
  readonly diagnostics: readonly Diagnostic[];
  /** Diagnostics reported beyond those in `diagnostics` (a file with very many errors). */
  readonly omitted?: number;
  readonly cached: boolean;
  readonly timings: {
    /** Front end + lowering + passes; on a hit, hashing the source and finding the artifact. */
    readonly compile_ms: number;
    /** Serializing and writing the artifact; on a hit, reading, parsing and verifying it; 0 with noCache. */
    readonly artifact_ms: number;
  };
  /** Why the artifact could not be written (the plan is still good). */
  readonly cacheError?: string;
}

export function planCacheKey(compilerVersion: string, level: OptLevel, text: string): string {
  return sha256Hex(`${compilerVersion}\0${level}\0${text}`);
}

function readCached(path: string, o: LoadOrCompileOptions): Plan | undefined {
  try {
    const plan = parsePlan(readFileSync(path, 'utf8'));
    const fresh = plan.compiler === o.compilerVersion && plan.optimization_level === o.level && plan.source.sha256 === sha256Hex(o.text);
    if (!fresh) return undefined;
    // The key ignores the path, so a copy of the workflow hits; the plan then names this file.
    return plan.source.file === o.file ? plan : withHash({ ...plan, source: { ...plan.source, file: o.file } });
  } catch {
    return undefined;
  }
}

function writeAtomically(path: string, text: string): void {
  const temp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    writeFileSync(temp, text, { flag: 'wx' });
    renameSync(temp, path);
  } catch (e) {
    rmSync(temp, { force: true });
    throw e;
  }
}

export function loadOrCompile(o: LoadOrCompileOptions): LoadOrCompileResult {
  const t0 = performance.now();
  const cacheDir = o.cacheDir ?? DEFAULT_PLAN_CACHE_DIR;
  const path = o.noCache === true ? undefined : join(cacheDir, `${planCacheKey(o.compilerVersion, o.level, o.text)}.plan.json`);
  if (path !== undefined && existsSync(path)) {
    const t1 = performance.now();
    const plan = readCached(path, o);
    if (plan !== undefined) {
      const diagnostics = plan.warnings.map((w): Diagnostic => ({ severity: 'warning', file: o.file, ...w }));
      return { plan, diagnostics, cached: true, timings: { compile_ms: t1 - t0, artifact_ms: performance.now() - t1 } };
    }
  }
  const compiled = compilePlan(o.file, o.text, o.level, o.compilerVersion);
  const t2 = performance.now();
  const result = { diagnostics: compiled.diagnostics, omitted: compiled.omitted, cached: false };
  if (compiled.plan === undefined || path === undefined) {
    return { ...result, plan: compiled.plan, timings: { compile_ms: t2 - t0, artifact_ms: 0 } };
  }
  let cacheError: string | undefined;
  try {
    mkdirSync(cacheDir, { recursive: true });
    writeAtomically(path, serializePlan(compiled.plan));
  } catch (e) {
    cacheError = `cannot write the plan cache ${path}: ${e instanceof Error ? e.message : String(e)}`;
  }
  const timings = { compile_ms: t2 - t0, artifact_ms: performance.now() - t2 };
  return cacheError === undefined ? { ...result, plan: compiled.plan, timings } : { ...result, plan: compiled.plan, timings, cacheError };
}
