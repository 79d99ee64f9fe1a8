import { describe, expect, it } from 'vitest';
import { REDACTION_KINDS, sanitizeLabelValue } from '../../src/model/index.js';

/**
 * Issue 13.14: values that reached /metrics labels unredacted. Every positive must come out
 * as its marker; every look-alike must survive as it was.
 */
const POSITIVES: readonly { readonly value: string; readonly kind: string }[] = [
  { value: '4155550100', kind: 'redacted_phone' },
  { value: '07700_900123', kind: 'redacted_phone' },
  { value: '0041_44_668_18_00', kind: 'redacted_phone' },
  { value: '415_555_0100', kind: 'redacted_phone' },
  { value: '+41 44 668 18 00', kind: 'redacted_phone' },
  { value: '192.168.001.010', kind: 'redacted_ip' },
  { value: '010.000.000.001', kind: 'redacted_ip' },
  { value: 'jane.doe＠example.com', kind: 'redacted_email' },
  { value: 'ｊａｎｅ@example.com', kind: 'redacted_email' },
  { value: 'AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY', kind: 'redacted_token' },
  { value: 'sk_test_4eC39HqLyjWDarjtT1zdp7dc', kind: 'redacted_token' },
  { value: 'rk_live_51H8aBcDeFgHiJkLmNoPq', kind: 'redacted_token' },
  { value: 'hf_AbCdEfGhIjKlMnOpQrStUvWxYz01234567', kind: 'redacted_token' },
  { value: 'glpat-xxxxXXXXyyyyYYYY1234', kind: 'redacted_token' },
  { value: 'npm_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789', kind: 'redacted_token' },
  { value: '4111111111111111', kind: 'redacted_card' },
  { value: '4111 1111 1111 1111', kind: 'redacted_card' },
  { value: '5500-0000-0000-0004', kind: 'redacted_card' },
  { value: '378282246310005', kind: 'redacted_card' },
];

const LOOK_ALIKES: readonly string[] = [
  'gpt-4o-2024-08-06',
  'claude-3-5-sonnet-20241022',
  'anthropic.claude-3-5-sonnet-20241022-v2:0',
  'gemini-2.5-pro-preview-05-06',
  'gpt-3.5-turbo-0125',
  '2024-08-06',
  '20241022',
  '2024-08-06_12-30-45',
  '20241022123045',
  'v1.2.3',
  '10.0.1',
  '1.2.3-beta.4',
  'step_001',
  'hf_model_cache',
  'npm_package_name',
  'sk_test_x',
  'AIzaShort',
  '4111111111111112',
  '123456789',
  'order_12345',
];

describe('label redaction (issue 13.14)', () => {
  it.each(POSITIVES)('redacts $value as $kind', ({ value, kind }) => {
    expect(sanitizeLabelValue(value)).toBe(kind);
  });

  it.each(POSITIVES)('redacts $value inside a longer value', ({ value, kind }) => {
    expect(sanitizeLabelValue(`user ${value} asked`)).toBe(`user_${kind}_asked`);
  });

  it.each(LOOK_ALIKES)('keeps %s', (value) => {
    expect(sanitizeLabelValue(value)).toBe(value);
  });

  it('names card numbers as a kind of their own', () => {
    expect(REDACTION_KINDS).toContain('redacted_card');
  });

  it('stays linear on long runs of digits and separators', () => {
    const values = ['1'.repeat(200_000), '1_'.repeat(100_000), '41 '.repeat(70_000), '4111'.repeat(50_000)];
    const start = performance.now();
    for (const value of values) sanitizeLabelValue(value);
    expect(performance.now() - start).toBeLessThan(2000);
  });
});
