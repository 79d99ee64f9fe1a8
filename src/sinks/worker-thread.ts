import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/**
 * Starts one of the worker entries beside this file (`jsonl-thread-worker`,
 * `store-thread-worker`). Built, it runs the compiled .js; run from the .ts sources (tests,
 * `tsx`), it loads the .ts entry through tsx, whose loader Node 20 does not pass on to
 * worker threads.
 */
export function startWorker(entry: string, workerData: unknown): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL(`./${entry}.js`, import.meta.url), { workerData });
  const source = new URL(`./${entry}.ts`, import.meta.url).href;
  // require.resolve finds the CommonJS build (index.cjs); its ESM twin (index.mjs, the `import` export) is the one that works in a worker.
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  const code = `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(source)}); })`;
  return new Worker(code, { eval: true, workerData });
}

/** What a sink's worker reports to the sink that started it. */
export interface SinkWorkerHooks<M> {
  /** Each message the worker posts. */
  readonly receive: (message: M) => void;
  /** The worker failed, or stopped while it was still this sink's worker (`current`). */
  readonly fail: (err: unknown) => void;
  readonly current: (worker: Worker) => boolean;
  /** What the thread is, for the error when it stops: 'the store thread'. */
  readonly what: string;
}

/**
 * Starts a sink's worker (startWorker) wired to its sink. It never keeps the process alive
 * by itself: at exit, the sink waits for it on a shared counter instead.
 */
export function startSinkWorker<M>(entry: string, workerData: unknown, hooks: SinkWorkerHooks<M>): Worker {
  const worker = startWorker(entry, workerData);
  worker.on('message', (message: M) => hooks.receive(message));
  worker.on('error', (err) => hooks.fail(err));
  worker.on('exit', () => {
    if (hooks.current(worker)) hooks.fail(new Error(`${hooks.what} stopped`));
  });
  worker.unref();
  return worker;
}

/**
 * Asks a sink's worker to close (`message`), waits for its `closed` answer — or its exit,
 * should it have died — and stops it (a loader may hold its event loop open). `detach`
 * runs before the stop, so the sink does not take that exit for a failure.
 */
export async function closeSinkWorker(worker: Worker, message: unknown, detach: () => void): Promise<void> {
  await new Promise<void>((resolve) => {
    worker.ref();
    worker.on('message', (answer: { readonly type?: unknown }) => {
      if (answer.type === 'closed') resolve();
    });
    worker.once('exit', () => resolve());
    worker.postMessage(message);
  });
  detach();
  await worker.terminate();
}

/**
 * Batches posted that a worker has not settled yet, from the count it keeps in a shared
 * Int32 (an Int32 so the main thread can Atomics.wait on it). That count wraps after 2^31
 * batches (days for a busy proxy); the difference taken to 32 bits stays right across the wrap.
 */
export function batchesBehind(posted: number, settled: Int32Array): number {
  return (posted - Atomics.load(settled, 0)) | 0;
}

/** Blocks until the worker has settled every batch up to `posted`, or `timeoutMs` passed: for process exit, where nothing async runs. True when none waits. */
export function waitForBatches(settled: Int32Array, posted: number, timeoutMs: number): boolean {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const now = Atomics.load(settled, 0);
    if (((posted - now) | 0) <= 0) return true;
    const left = deadline - performance.now();
    if (left <= 0) return false;
    Atomics.wait(settled, 0, now, left);
  }
}

/** An error as it crosses from a worker to the main thread: structured clone keeps no class and no `code`. */
export interface ThreadError {
  readonly message: string;
  readonly name?: string;
  readonly code?: string;
}

export function toThreadError(err: unknown): ThreadError {
  if (!(err instanceof Error)) return { message: String(err) };
  const code = (err as NodeJS.ErrnoException).code;
  return { message: err.message, name: err.name, ...(code !== undefined && { code }) };
}

/** The Error the worker reported, with its name and code, for the main thread's error channel. */
export function fromThreadError(error: ThreadError): Error {
  return Object.assign(new Error(error.message), { name: error.name ?? 'Error' }, error.code === undefined ? {} : { code: error.code });
}
