import type { LlmCallContext, Run, StepTimer } from './run.js';

const NEVER_ABORTED = new AbortController().signal;
const NOOP_TIMER: StepTimer = { end: () => undefined };

const NOOP_CALL: LlmCallContext = {
  signal: NEVER_ABORTED,
  firstToken: () => undefined,
  usage: () => undefined,
  cacheHit: () => undefined,
};

/**
 * The run handed out when metrics are off. Each method only calls through, and
 * `Promise.resolve(p)` returns `p` itself for a native promise, so the disabled path
 * allocates nothing per call (the bench measures it).
 */
export const NOOP_RUN: Run = {
  id: '',
  meta: { run_id: '', flow_id: '', task_id: null, agent: '', exec_mode: 'live', branch: '', attributes: {} },
  signal: NEVER_ABORTED,
  llmCall: (_meta, fn) => Promise.resolve(fn(NOOP_CALL)),
  toolCall: (_name, fn) => Promise.resolve(fn()),
  step: <T>(_id: string, a: unknown, b?: () => Promise<T> | T): Promise<T> => Promise.resolve((typeof a === 'function' ? (a as () => Promise<T> | T) : b!)()),
  stepTimer: () => NOOP_TIMER,
  retry: () => undefined,
  tokensIn: () => undefined,
  tokensOut: () => undefined,
  setOutcome: () => undefined,
  flowEnd: () => undefined,
};
