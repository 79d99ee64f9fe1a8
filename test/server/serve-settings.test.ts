import { describe, expect, it } from 'vitest';
import { ServeConfigError, resolveServeSettings } from '../../src/server/index.js';

describe('resolveServeSettings', () => {
  it('defaults to 127.0.0.1:9108, no token, enabled', () => {
    expect(resolveServeSettings({}, {})).toEqual({ enabled: true, disabledBy: undefined, port: 9108, addr: '127.0.0.1', token: undefined, warnings: [] });
  });

  it('reads ARX\'s AR_METRICS_PORT and AR_METRICS_ADDR as aliases', () => {
    const s = resolveServeSettings({}, { AR_METRICS_PORT: '9200', AR_METRICS_ADDR: '0.0.0.0' });
    expect([s.port, s.addr]).toEqual([9200, '0.0.0.0']);
  });

  it('prefers FLOWMETER_* over AR_*', () => {
    const s = resolveServeSettings({}, { AR_METRICS_PORT: '9200', FLOWMETER_METRICS_PORT: '9300', AR_METRICS_ADDR: '0.0.0.0', FLOWMETER_METRICS_ADDR: '::1' });
    expect([s.port, s.addr]).toEqual([9300, '::1']);
  });

  it('prefers what the caller said over the environment', () => {
    const s = resolveServeSettings({ port: 0, addr: '127.0.0.2', token: 'flag' }, { FLOWMETER_METRICS_PORT: '9300', FLOWMETER_METRICS_ADDR: '::1', FLOWMETER_TOKEN: 'env' });
    expect([s.port, s.addr, s.token]).toEqual([0, '127.0.0.2', 'flag']);
  });

  it('takes the token from FLOWMETER_TOKEN, and treats an empty one as unset', () => {
    expect(resolveServeSettings({}, { FLOWMETER_TOKEN: 'abc' }).token).toBe('abc');
    expect(resolveServeSettings({}, { FLOWMETER_TOKEN: '' }).token).toBeUndefined();
  });

  it('is disabled by FLOWMETER_ENABLE_METRICS=0 or AR_ENABLE_METRICS=0, FLOWMETER_* first', () => {
    expect(resolveServeSettings({}, { FLOWMETER_ENABLE_METRICS: '0' })).toMatchObject({ enabled: false, disabledBy: 'FLOWMETER_ENABLE_METRICS=0' });
    expect(resolveServeSettings({}, { AR_ENABLE_METRICS: 'false' })).toMatchObject({ enabled: false, disabledBy: 'AR_ENABLE_METRICS=false' });
    expect(resolveServeSettings({}, { FLOWMETER_ENABLE_METRICS: '1', AR_ENABLE_METRICS: '0' }).enabled).toBe(true);
  });

  it.each([
    [{ FLOWMETER_METRICS_PORT: 'http' }, /FLOWMETER_METRICS_PORT=http is not a port/],
    [{ AR_METRICS_PORT: '70000' }, /AR_METRICS_PORT must be a port/],
    [{ FLOWMETER_ENABLE_METRICS: 'maybe' }, /FLOWMETER_ENABLE_METRICS=maybe is not understood; use 1 or 0/],
    [{ FLOWMETER_TOKEN: 'two words' }, /whitespace/],
  ])('says which setting is wrong: %j', (env, message) => {
    expect(() => resolveServeSettings({}, env)).toThrow(ServeConfigError);
    expect(() => resolveServeSettings({}, env)).toThrow(message);
  });

  it('refuses an empty token from the caller, which would let anyone in', () => {
    expect(() => resolveServeSettings({ token: '' }, {})).toThrow(/empty/);
  });
});
