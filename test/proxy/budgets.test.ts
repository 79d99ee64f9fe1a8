import { describe, expect, it } from 'vitest';
import { Budgets, parseBudget } from '../../src/proxy/budgets.js';
import { ProxyConfigError } from '../../src/proxy/index.js';

const keys = (user: string) => ({ app: 'key_1', user, session: undefined, run: undefined });

describe('parseBudget', () => {
  it('reads scope, match, metric, window and limit', () => {
    expect(parseBudget('app=* cost_usd_per_day<=5')).toMatchObject({ scope: 'app', match: '*', metric: 'cost_usd', windowMs: 86_400_000, limit: 5 });
    expect(parseBudget('user=alice tokens_per_15m<=1000')).toMatchObject({ scope: 'user', match: 'alice', metric: 'tokens', windowMs: 900_000, limit: 1000 });
    expect(parseBudget('run=* cost_usd<=0.5')).toMatchObject({ scope: 'run', windowMs: null, limit: 0.5 });
  });

  it.each([
    ['app=* cost_usd<=5', 'needs a window'],
    ['team=* cost_usd_per_day<=5', 'scope "team"'],
    ['app=* cost_usd_per_fortnight<=5', 'per_fortnight'],
    ['cost_usd<=5', 'is not understood'],
  ])('rejects %s with a message that says what to write', (spec, message) => {
    expect(() => parseBudget(spec)).toThrow(ProxyConfigError);
    expect(() => parseBudget(spec)).toThrow(message);
  });
});

describe('Budgets', () => {
  it('lets calls through until a key reaches its limit, per key', () => {
    const b = new Budgets([parseBudget('user=* tokens_per_hour<=100')]);
    const t0 = 1_000_000_000;
    b.add(keys('alice'), t0, null, 60);
    expect(b.check(keys('alice'), t0)).toBeNull();
    b.add(keys('alice'), t0, null, 40);
    expect(b.check(keys('alice'), t0)?.used).toBe(100);
    expect(b.check(keys('bob'), t0)).toBeNull();
  });

  it('forgets spend as it leaves the rolling window, and says when', () => {
    const b = new Budgets([parseBudget('user=* tokens_per_hour<=100')]);
    const t0 = 3_600_000 * 1000;
    b.add(keys('alice'), t0, null, 70);
    b.add(keys('alice'), t0 + 1_800_000, null, 50);
    const verdict = b.check(keys('alice'), t0 + 1_800_000);
    // The first 70 leave the window an hour after they were spent: 30 minutes from now.
    expect(verdict?.retryAfter).toBe(1800);
    expect(b.check(keys('alice'), t0 + 3_600_000 + 60_000)).toBeNull();
  });

  it('adds nothing for unknown cost (it is not zero)', () => {
    const b = new Budgets([parseBudget('app=* cost_usd_per_day<=0.000001')]);
    b.add(keys('a'), 0, null, 10);
    expect(b.check(keys('a'), 0)).toBeNull();
    b.add(keys('a'), 0, 0.01, 10);
    expect(b.check(keys('a'), 0)).not.toBeNull();
  });
});
