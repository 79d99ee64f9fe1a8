import { describe, expect, it } from 'vitest';
import { RawEventSplitter, filterChatEvent, withIncludeUsage } from '../../src/proxy/include-usage.js';

describe('withIncludeUsage', () => {
  it('appends stream_options to the client text, leaving the rest byte for byte', () => {
    const text = '{ "model": "m",  "stream": true }';
    expect(withIncludeUsage(text, JSON.parse(text) as Record<string, unknown>)).toBe('{ "model": "m",  "stream": true,"stream_options":{"include_usage":true}}');
  });

  it('leaves non-streamed requests and those that asked alone', () => {
    expect(withIncludeUsage('{"stream":false}', { stream: false })).toBeNull();
    expect(withIncludeUsage('{}', {})).toBeNull();
    const asked = { stream: true, stream_options: { include_usage: true } };
    expect(withIncludeUsage(JSON.stringify(asked), asked)).toBeNull();
  });
});

describe('filterChatEvent', () => {
  it('drops the usage-only chunk and the usage:null member, nothing else', () => {
    const usage = 'data: {"id":"x","choices":[],"usage":{"prompt_tokens":1}}\n\n';
    expect(filterChatEvent(usage, { choices: [], usage: { prompt_tokens: 1 } })).toBe('');
    const chunk = 'data: {"id":"x","choices":[{"delta":{"content":"hi"}}],"usage":null,"obfuscation":"ab"}\n\n';
    expect(filterChatEvent(chunk, { choices: [{}], usage: null })).toBe('data: {"id":"x","choices":[{"delta":{"content":"hi"}}],"obfuscation":"ab"}\n\n');
    expect(filterChatEvent('data: [DONE]\n\n', undefined)).toBe('data: [DONE]\n\n');
  });
});

describe('RawEventSplitter', () => {
  it('yields whole events whatever the chunking, keeping their exact text', () => {
    const s = new RawEventSplitter();
    expect(s.push('data: a\n')).toEqual([]);
    expect(s.push('\ndata: b\r\n\r\ndata: ')).toEqual(['data: a\n\n', 'data: b\r\n\r\n']);
    expect(s.push('c\n\n')).toEqual(['data: c\n\n']);
    expect(s.end()).toBe('');
  });
});
