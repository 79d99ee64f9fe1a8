import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../stats/fixtures.js';
import {
  FORBIDDEN_LABEL_NAMES,
  LABEL_VALUE_MAX_LENGTH,
  REDACTION_KINDS,
  labelNameProblem,
  redactLabelValue,
  sanitizeLabelValue,
} from '../../src/model/index.js';

describe('sanitizeLabelValue redaction', () => {
  const cases: readonly { kind: string; value: string }[] = [
    { kind: 'redacted_email', value: 'jane.doe+x@example.co.uk' },
    { kind: 'redacted_email', value: 'ops@acme.io' },
    { kind: 'redacted_phone', value: '+1 (415) 555-0100' },
    { kind: 'redacted_phone', value: '+44 20 7946 0958' },
    { kind: 'redacted_phone', value: '415-555-0100' },
    { kind: 'redacted_phone', value: '(415) 555-0100' },
    { kind: 'redacted_ip', value: '192.168.0.1' },
    { kind: 'redacted_ip', value: '::1' },
    { kind: 'redacted_ip', value: '2001:0db8:85a3:0000:0000:8a2e:0370:7334' },
    { kind: 'redacted_ip', value: '2001:db8::ff00:42:8329' },
    { kind: 'redacted_ip', value: '::ffff:192.168.0.1' },
    { kind: 'redacted_token', value: 'Bearer abc.def' },
    { kind: 'redacted_token', value: 'sk-proj-4fJ9kQ2mZx7LpR8tWv3nYb6cHd1eGs0a' },
    { kind: 'redacted_token', value: 'sk-ant-api03-Xy7_k2LmQ9pRtV4wZs8bN1cD6fGh3jK5' },
    { kind: 'redacted_token', value: 'AKIAIOSFODNN7EXAMPLE' },
    { kind: 'redacted_token', value: 'ghp_16C7e42F292c6912E7710c838347Ae178B4a' },
    { kind: 'redacted_token', value: 'd41d8cd98f00b204e9800998ecf8427e' },
    { kind: 'redacted_token', value: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
    { kind: 'redacted_token', value: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U' },
    { kind: 'redacted_id', value: '123e4567-e89b-12d3-a456-426614174000' },
  ];

  it.each(cases)('replaces $value by $kind', ({ kind, value }) => {
    expect(sanitizeLabelValue(value)).toBe(kind);
  });

  it('redacts inside a longer value and keeps the rest', () => {
    expect(sanitizeLabelValue('escalate to jane.doe+x@example.co.uk now')).toBe('escalate_to_redacted_email_now');
    expect(sanitizeLabelValue('upstream 10.0.0.12:8080 refused')).toBe('upstream_redacted_ip:8080_refused');
    expect(sanitizeLabelValue('Authorization: Bearer abc.def')).toBe('Authorization:_redacted_token');
    expect(sanitizeLabelValue('run-123e4567-e89b-12d3-a456-426614174000')).toBe('run-redacted_id');
  });

  it('redacts before filtering characters, so a filtered e-mail cannot slip through', () => {
    // ARX's character filter alone gave `jane.doe_example.com`.
    expect(sanitizeLabelValue('jane.doe@example.com')).toBe('redacted_email');
  });

  it('names exactly the six redaction kinds', () => {
    expect([...REDACTION_KINDS]).toEqual(['redacted_email', 'redacted_phone', 'redacted_ip', 'redacted_token', 'redacted_id', 'redacted_card']);
  });

  it.each([
    'gpt-4o-2024-08-06',
    'claude-3-5-sonnet-20241022',
    'anthropic.claude-3-5-sonnet-20241022-v2:0',
    'gpt-3.5-turbo-0125',
    'meta-llama/Meta-Llama-3.1-405B-Instruct-Turbo-FP8',
    'accounts/fireworks/models/llama-v3p1-405b-instruct',
    'feature_request_to_pr',
    'feature/JIRA-1234-add-new-login-flow-for-users',
    'ProcessCustomerRefundRequestWithValidation2',
    'step_001',
    'CODER_AI',
    'dry_run',
    'sk-learn-pipeline-step',
    'std::vector',
    '12:30:45',
    '2024-08-06',
    'v1.2.3',
  ])('keeps %s as it is', (value) => {
    expect(sanitizeLabelValue(value)).toBe(value);
  });

  it.each(['base64', 'base64url'] as const)('redacts random %s secrets of 48 characters and more', (alphabet) => {
    const symbols = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789' + (alphabet === 'base64' ? '+/' : '-_');
    const random = mulberry32(alphabet === 'base64' ? 41 : 42);
    const kept: string[] = [];
    for (let i = 0; i < 500; i++) {
      let secret = '';
      for (let length = 48 + (i % 17); secret.length < length; ) secret += symbols[Math.floor(random() * 64)];
      if (sanitizeLabelValue(secret) !== 'redacted_token') kept.push(secret);
    }
    expect(kept).toEqual([]);
  });

  it.each([
    'projects/my-project/locations/us-central1/publishers/google/models/gemini-1.5-pro-002',
    'dependabot/npm_and_yarn/webpack-dev-server-4.15.1',
    'renovate/major-typescript-eslint-monorepo-v8',
    'summarize_customer_conversation_history_and_extract_intent_v2',
    'CustomerSupportTriageAgentV2WithEscalationPolicy3',
    'THIS_IS_A_VERY_LONG_CONSTANT_NAME_FOR_STEP_2',
  ])('keeps the long name %s, which is not a secret', (value) => {
    expect(redactLabelValue(value)).toBe(value);
  });

  it('does not take a package version for an e-mail', () => {
    expect(redactLabelValue('lodash@4.17.21')).toBe('lodash@4.17.21');
  });
});

describe('sanitizeLabelValue character filter', () => {
  it('replaces every character outside [A-Za-z0-9_-./:] by an underscore', () => {
    expect(sanitizeLabelValue('héllo wörld!')).toBe('h_llo_w_rld_');
    expect(sanitizeLabelValue('a"b{c}d\n')).toBe('a_b_c_d_');
  });

  it('keeps the characters ARX allows', () => {
    expect(sanitizeLabelValue('Az09_-./:')).toBe('Az09_-./:');
  });

  it('cuts values to 64 characters', () => {
    const long = 'step_'.repeat(20);
    expect(sanitizeLabelValue(long)).toBe(long.slice(0, 64));
    expect(sanitizeLabelValue(long)).toHaveLength(LABEL_VALUE_MAX_LENGTH);
  });

  it('turns an empty value into unknown', () => {
    expect(sanitizeLabelValue('')).toBe('unknown');
  });

  it('converts a non-string value instead of throwing', () => {
    expect(sanitizeLabelValue(42 as unknown as string)).toBe('42');
    expect(sanitizeLabelValue(Object.create(null) as string)).toBe('unknown');
  });

  it('takes linear time on long near-miss values', () => {
    // Each of these makes a careless pattern rescan the run from every position.
    const values = ['a'.repeat(200_000), '1 '.repeat(100_000), 'a@b.'.repeat(50_000), '1:'.repeat(100_000), '+1-'.repeat(70_000)];
    const start = performance.now();
    for (const value of values) sanitizeLabelValue(value);
    expect(performance.now() - start).toBeLessThan(2000);
  });
});

describe('labelNameProblem', () => {
  it('accepts Prometheus label names', () => {
    for (const name of ['model', 'flow_id', '_private', 'Phase2']) expect(labelNameProblem(name)).toBeNull();
  });

  it.each(['2fast', 'model-name', 'a.b', '', 'naïve'])('rejects %j, which Prometheus would not accept', (name) => {
    expect(labelNameProblem(name)).toContain('[a-zA-Z_][a-zA-Z0-9_]*');
  });

  it('rejects names starting with __, which Prometheus reserves', () => {
    expect(labelNameProblem('__name__')).toContain('reserved');
  });

  it.each([...FORBIDDEN_LABEL_NAMES])('refuses %s and says where it belongs', (name) => {
    expect(labelNameProblem(name)).toBe(`${name} is high-cardinality; put it in events and logs, not in metric labels`);
  });

  it('refuses the same ids spelled differently', () => {
    expect(labelNameProblem('runId')).toBe('runId is high-cardinality (like run_id); put it in events and logs, not in metric labels');
    expect(labelNameProblem('USER_ID')).toContain('high-cardinality');
    expect(labelNameProblem('sessionid')).toContain('high-cardinality');
  });

  it('forbids run, user, session and task ids', () => {
    expect([...FORBIDDEN_LABEL_NAMES]).toEqual(['run_id', 'user_id', 'session_id', 'task_id']);
  });
});
