import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PlanFormatError, loadOrCompile, parsePlan, planCacheKey, serializePlan } from '../../../src/runtime/ir/artifact.js';
import type { LoadOrCompileOptions } from '../../../src/runtime/ir/artifact.js';
import { canonicalJson, verifyPlanHash } from '../../../src/runtime/ir/plan-hash.js';
import { VERSION, edited, examplePlan, exampleText } from './helpers.js';

describe('serializePlan and parsePlan', () => {
  const plan = examplePlan('agents', 'O1');

  it('round-trips a plan byte for byte', () => {
    const text = serializePlan(plan);
    expect(text).toBe(`${canonicalJson(plan)}\n`);
    expect(parsePlan(text)).toEqual(plan);
    expect(serializePlan(parsePlan(text))).toBe(text);
  });

  it('rejects malformed JSON, another format and a plan whose hash does not match', () => {
    expect(() => parsePlan('{"format": ')).toThrow(/^not a plan: invalid JSON/);
    expect(() => parsePlan('[1]')).toThrow('not a plan: expected a JSON object');
    expect(() => parsePlan('{"format":"other"}')).toThrow('not a plan: format is "other", expected "flowmeter.plan.v1"');
    const tampered = edited(plan, (p) => void (p.entry = 'Critic.review'), false);
    expect(() => parsePlan(serializePlan(tampered))).toThrow(PlanFormatError);
    expect(() => parsePlan(serializePlan(tampered))).toThrow(/^plan hash mismatch/);
  });
});

describe('loadOrCompile', () => {
  let cacheDir: string;
  const text = exampleText('chain');
  const base = (): LoadOrCompileOptions => ({ file: 'chain.ais', text, level: 'O1', compilerVersion: VERSION, cacheDir });
  const artifact = (): string => join(cacheDir, `${planCacheKey(VERSION, 'O1', text)}.plan.json`);

  beforeEach(() => {
    cacheDir = join(mkdtempSync(join(tmpdir(), 'flowmeter-plans-')), 'nested', 'plans');
  });
  afterEach(() => rmSync(join(cacheDir, '..', '..'), { recursive: true, force: true }));

  it('compiles on a miss, creates the cache folder and writes the plan there', () => {
    const first = loadOrCompile(base());
    expect(first.cached).toBe(false);
    expect(first.plan?.optimization_level).toBe('O1');
    expect(readFileSync(artifact(), 'utf8')).toBe(serializePlan(first.plan!));
    expect(readdirSync(cacheDir)).toEqual([`${planCacheKey(VERSION, 'O1', text)}.plan.json`]); // no temp file left over
    expect(first.timings.compile_ms).toBeGreaterThan(0);
    expect(first.timings.artifact_ms).toBeGreaterThan(0);
  });

  it('returns the cached plan on a hit, with the same hash', () => {
    const first = loadOrCompile(base());
    const second = loadOrCompile(base());
    expect(second.cached).toBe(true);
    expect(second.plan?.hash).toBe(first.plan?.hash);
    expect(second.plan).toEqual(first.plan);
  });

  it('keys on the source, the level and the compiler version', () => {
    loadOrCompile(base());
    expect(loadOrCompile({ ...base(), text: `${text}\n` }).cached).toBe(false);
    expect(loadOrCompile({ ...base(), level: 'O0' }).cached).toBe(false);
    expect(loadOrCompile({ ...base(), compilerVersion: '0.0.1' }).cached).toBe(false);
    expect(readdirSync(cacheDir)).toHaveLength(4);
  });

  it('names the file it was asked for when a copy of the workflow hits', () => {
    loadOrCompile(base());
    const copy = loadOrCompile({ ...base(), file: 'elsewhere/chain.ais' });
    expect(copy.cached).toBe(true);
    expect(copy.plan?.source.file).toBe('elsewhere/chain.ais');
    expect(verifyPlanHash(copy.plan!)).toBe(true);
  });

  it.each([
    ['a torn file', (s: string) => s.slice(0, s.length / 2)],
    ['an edited plan', (s: string) => s.replace('Writer.main:fused', 'Writer.main:tampered')],
    ['another format', (s: string) => s.replace('flowmeter.plan.v1', 'flowmeter.plan.v0')],
  ])('recompiles and overwrites %s instead of trusting it', (_what, corrupt) => {
    const first = loadOrCompile(base());
    writeFileSync(artifact(), corrupt(readFileSync(artifact(), 'utf8')));
    const again = loadOrCompile(base());
    expect(again.cached).toBe(false);
    expect(again.plan?.hash).toBe(first.plan?.hash);
    expect(readFileSync(artifact(), 'utf8')).toBe(serializePlan(first.plan!));
    expect(loadOrCompile(base()).cached).toBe(true);
  });

  it('neither reads nor writes the cache with noCache', () => {
    const r = loadOrCompile({ ...base(), noCache: true });
    expect(r.cached).toBe(false);
    expect(r.plan).toBeDefined();
    expect(r.timings.artifact_ms).toBe(0);
    expect(() => readdirSync(cacheDir)).toThrow();
  });

  it('returns diagnostics and no plan for a source with errors, and caches nothing', () => {
    const r = loadOrCompile({ ...base(), text: 'agent A { @entry flow main() { ask(nope) -> r  return r } }' });
    expect(r.plan).toBeUndefined();
    expect(r.diagnostics.map((d) => `${d.line}:${d.col}: ${d.severity}: ${d.message}`)).toEqual(['1:36: error: undefined variable "nope"']);
    expect(() => readdirSync(cacheDir)).toThrow();
  });

  it('returns the plan\'s warnings as diagnostics on a hit too', () => {
    const warned = 'agent A {\n  @entry flow main() -> str {\n    ask("q") -> unused\n    return "x"\n  }\n}\n';
    const miss = loadOrCompile({ ...base(), text: warned });
    const hit = loadOrCompile({ ...base(), text: warned });
    expect(hit.cached).toBe(true);
    const strip = (ds: typeof miss.diagnostics): string[] => ds.map((d) => `${d.file}:${d.line}:${d.col}: ${d.severity}: ${d.message}`);
    expect(strip(hit.diagnostics)).toEqual(strip(miss.diagnostics));
    expect(strip(hit.diagnostics)).toEqual(['chain.ais:3:17: warning: value "unused" is never used']);
  });

  it('still returns the plan when the cache cannot be written', () => {
    const blocker = join(cacheDir, '..', '..', 'file');
    writeFileSync(blocker, 'not a folder');
    const r = loadOrCompile({ ...base(), cacheDir: join(blocker, 'plans') });
    expect(r.plan).toBeDefined();
    expect(r.cacheError).toMatch(/^cannot write the plan cache /);
  });
});
