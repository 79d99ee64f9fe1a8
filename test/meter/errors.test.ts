import { describe, expect, it } from 'vitest';
import { BudgetExceededError, RunCancelledError, RunOutcomeError, RunTimeoutError, errorType } from '../../src/meter/index.js';
import { outcomeOfError } from '../../src/meter/errors.js';
import { codeError, httpError } from './fixtures.js';

describe('errorType', () => {
  it.each([
    [httpError(429), 'rate_limit'],
    [httpError(408), 'timeout'],
    [httpError(500), 'server_error'],
    [httpError(529), 'server_error'],
    [httpError(400), 'invalid_request'],
    [httpError(404), 'invalid_request'],
    [Object.assign(new Error('x'), { statusCode: 503 }), 'server_error'],
    [Object.assign(new Error('x'), { response: { status: 429 } }), 'rate_limit'],
    [codeError('ECONNRESET'), 'connection_error'],
    [codeError('ECONNREFUSED'), 'connection_error'],
    [codeError('ENOTFOUND'), 'connection_error'],
    [codeError('UND_ERR_SOCKET'), 'connection_error'],
    [codeError('ETIMEDOUT'), 'timeout'],
    [Object.assign(new Error('t'), { name: 'TimeoutError' }), 'timeout'],
    [new TypeError('x'), 'TypeError'],
    [new BudgetExceededError('max_tokens', 2, 1), 'BudgetExceededError'],
    ['a string', 'Error'],
    [42, 'number'],
    [undefined, 'undefined'],
    [null, 'object'],
    [{}, 'Error'],
  ])('classifies %o as %s', (err, expected) => {
    expect(errorType(err)).toBe(expected);
  });
});

describe('outcomeOfError', () => {
  it('maps flowmeter errors to their outcomes whatever their source', () => {
    expect(outcomeOfError(new RunOutcomeError('verification_failed'), 'llm')).toBe('verification_failed');
    expect(outcomeOfError(new BudgetExceededError('max_cost_usd', 2, 1), 'tool')).toBe('budget_exceeded');
    expect(outcomeOfError(new RunTimeoutError(10), null)).toBe('timeout');
    expect(outcomeOfError(new RunCancelledError('why'), null)).toBe('cancelled');
  });

  it('maps an LLM failure to provider_error, or invalid_request for a 4xx other than 408/429', () => {
    expect(outcomeOfError(httpError(500), 'llm')).toBe('provider_error');
    expect(outcomeOfError(httpError(429), 'llm')).toBe('provider_error');
    expect(outcomeOfError(httpError(422), 'llm')).toBe('invalid_request');
  });

  it('maps any other failure to tool_error', () => {
    expect(outcomeOfError(httpError(500), 'tool')).toBe('tool_error');
    expect(outcomeOfError(new Error('agent bug'), null)).toBe('tool_error');
  });
});

describe('error classes', () => {
  it('say what was exceeded', () => {
    const err = new BudgetExceededError('max_tokens', 120, 100);
    expect(err.message).toBe('run budget exceeded: max_tokens used 120, allowed 100');
    expect(err.name).toBe('BudgetExceededError');
    expect(new RunTimeoutError(250).message).toBe('run timed out after 250ms');
  });

  it('name a cancel like a DOM abort and keep its reason as cause', () => {
    const err = new RunCancelledError('stop');
    expect(err.name).toBe('AbortError');
    expect(err.cause).toBe('stop');
  });
});
