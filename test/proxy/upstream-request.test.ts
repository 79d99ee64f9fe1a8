import type { Dispatcher } from 'undici';
import { describe, expect, it } from 'vitest';
import { sendUpstream } from '../../src/proxy/upstream-request.js';
import type { UpstreamSink } from '../../src/proxy/upstream-request.js';

/** A dispatcher that keeps the handler it is given, as undici's request and timers do after an answer ends. */
function keepingDispatcher(): { dispatcher: Dispatcher; handler: () => Dispatcher.DispatchHandler } {
  let kept: Dispatcher.DispatchHandler | undefined;
  const dispatcher = {
    dispatch(_options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
      kept = handler;
      return true;
    },
  } as unknown as Dispatcher;
  return { dispatcher, handler: () => kept! };
}

function recordingSink(): { sink: UpstreamSink; seen: string[] } {
  const seen: string[] = [];
  return {
    seen,
    sink: {
      onHead: (status) => void seen.push(`head ${status}`),
      onData: (chunk) => {
        seen.push(`data ${chunk.toString()}`);
        return true;
      },
      onEnd: () => void seen.push('end'),
      onError: (err, afterHead) => void seen.push(`error ${err.message} ${String(afterHead)}`),
    },
  };
}

const controller = { abort: () => undefined, pause: () => undefined, resume: () => undefined } as unknown as Dispatcher.DispatchController;

describe('an upstream request', () => {
  it('passes head, chunks and end to its sink, then lets go of the sink', () => {
    const { dispatcher, handler } = keepingDispatcher();
    const { sink, seen } = recordingSink();
    sendUpstream(dispatcher, { origin: 'http://127.0.0.1:1', path: '/v1/chat/completions', method: 'POST', headers: {}, body: '{}' }, sink);
    const h = handler();
    h.onRequestStart?.(controller, {});
    h.onResponseStart?.(controller, 200, {}, 'OK');
    h.onResponseData?.(controller, Buffer.from('a'));
    h.onResponseEnd?.(controller, {});
    // The handler outlives the answer inside undici; what it still receives goes nowhere.
    h.onResponseData?.(controller, Buffer.from('late'));
    h.onResponseError?.(controller, new Error('late'));
    h.onResponseEnd?.(controller, {});
    expect(seen).toEqual(['head 200', 'data a', 'end']);
  });

  it('reports an error before the head once, as no answer at all', () => {
    const { dispatcher, handler } = keepingDispatcher();
    const { sink, seen } = recordingSink();
    sendUpstream(dispatcher, { origin: 'http://127.0.0.1:1', path: '/', method: 'POST', headers: {}, body: '{}' }, sink);
    const h = handler();
    h.onResponseError?.(controller, new Error('refused'));
    h.onResponseError?.(controller, new Error('again'));
    expect(seen).toEqual(['error refused false']);
  });
});
