import type { LlmCallContext, Run, StepTimer } from './run.js';

const NEVER_ABORTED = new AbortController().signal;
const NOOP_TIMER: StepTimer = { end: () => undefined };

const NOOP_CALL: LlmCallContext = {
  signal: NEVER_ABORTED,
  firstToken: () => undefined,
  usage: () => undefined,
  cacheHit: () => undefined,
};

/** The caller's own error, unchanged, as the measured (async) methods would reject with it. */
function rejected<T>(err: unknown): Promise<T> {
  // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- not ours to wrap
  return Promise.reject(err);
}

/**
 * The run handed out when metrics are off. Each method only calls through, and
 * `Promise.resolve(p)` returns `p` itself for a native promise, so the disabled path
 * allocates nothing per call (the bench measures it). A synchronous throw still comes
 * back as a rejection: the methods return promises, on or off.
 */
export const NOOP_RUN: Run = {
  id: '',
  meta: { run_id: '', flow_id: '', task_id: null, agent: '', exec_mode: 'live', branch: '', attributes: {} },
  signal: NEVER_ABORTED,
  llmCall: (_meta, fn) => {
    try {
      return Promise.resolve(fn(NOOP_CALL));
    } catch (err) {
      return rejected(err);
    }
  },
  toolCall: (_name, fn) => {
    try {
      return Promise.resolve(fn());
    } catch (err) {
      return rejected(err);
    }
  },
  step: <T>(_id: string, a: unknown, b?: () => Promise<T> | T): Promise<T> => {
    try {
      return Promise.resolve((typeof a === 'function' ? (a as () => Promise<T> | T) : b!)());
    } catch (err) {
      return rejected(err);
    }
  },
  stepTimer: () => NOOP_TIMER,
  retry: () => undefined,
  tokensIn: () => undefined,
  tokensOut: () => undefined,
  setOutcome: () => undefined,
  flowEnd: () => undefined,
  finished: undefined,
};
