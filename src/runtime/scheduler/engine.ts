/**
 * One run of a compiled graph: the dataflow loop. Each node has a pending-input counter
 * (Int32Array); at zero it enters the ready heap; `#pump` dispatches while the global and
 * per-provider limits allow; a finished node's output is routed into its consumers' input
 * slots and their counters drop. A sync node completes inside the loop with no promise and
 * no closure; an async node costs one `then` with two small closures (unavoidable in JS to
 * carry the node id), which is noise beside an LLM call.
 */
import { performance } from 'node:perf_hooks';
import type { CircuitBreakers } from './circuit-breaker.js';
import { CircuitOpenError, DependencyFailedError } from './errors.js';
import type { CompiledGraph, TaskContext, TaskNode } from './graph.js';
import { COLLECT, DISPATCH, PICK, READY, ROUTE, SchedulerClock } from './metrics.js';
import type { SchedulerMetrics } from './metrics.js';
import { ReadyHeap } from './ready-heap.js';
import type { RetryOptions } from './retry.js';
import { backoffMs, classifyRetry } from './retry.js';
import type { RetryReason } from '../../model/outcome.js';

const PENDING = 0;
const QUEUED = 1;
const RUNNING = 2;
const DONE = 3;
const FAILED = 4;
const SKIPPED = 5;
const NO_INPUTS: readonly unknown[] = Object.freeze([]);

export interface GraphResult {
  /** `outputs[i]` is node i's output if it succeeded, otherwise undefined. */
  readonly outputs: readonly unknown[];
  /** Why each failed node failed: its own error, DependencyFailedError, CircuitOpenError or the abort reason. */
  readonly errors: ReadonlyMap<number, unknown>;
  /** Every failed node id, in the order they failed (apxm's `nodes_failed` is its length). */
  readonly failed: readonly number[];
  /** Fallback nodes not needed because their target succeeded, and nodes that depended only through them. */
  readonly skipped: readonly number[];
  /** True if the run timed out or was cancelled; nodes not started by then are in none of the lists. */
  readonly aborted: boolean;
  readonly abortReason?: unknown;
  readonly metrics: SchedulerMetrics;
}

export interface EngineOptions {
  readonly concurrency: number;
  readonly providerLimit: Float64Array;
  readonly retry: RetryOptions | undefined;
  readonly onRetry: ((node: TaskNode, reason: RetryReason, attempt: number, backoffSeconds: number) => void) | undefined;
  readonly breakers: CircuitBreakers | undefined;
  readonly random: () => number;
  readonly clock: SchedulerClock | undefined;
}

export class GraphRun {
  readonly controller = new AbortController();
  readonly #g: CompiledGraph;
  readonly #o: EngineOptions;
  readonly #pending: Int32Array;
  readonly #status: Uint8Array;
  readonly #attempt: Int32Array;
  readonly #slots: unknown[];
  readonly #outputs: unknown[];
  readonly #errors = new Map<number, unknown>();
  readonly #failed: number[] = [];
  readonly #skipped: number[] = [];
  readonly #heap: ReadyHeap;
  readonly #parked: (ReadyHeap | undefined)[];
  readonly #providerInFlight: Int32Array;
  readonly #clock: SchedulerClock;
  readonly #retryTimers = new Map<number, NodeJS.Timeout>();
  readonly #firstCtx: TaskContext;
  readonly #done: (result: GraphResult) => void;
  #settled = 0;
  /** This run's own operations in flight (the clock may be shared with nested runs); the concurrency limit counts these. */
  #inFlight = 0;
  /** This run's nodes in flight, containers included: the run is over only when none is. */
  #running = 0;
  #finished = false;

  constructor(graph: CompiledGraph, options: EngineOptions, done: (result: GraphResult) => void) {
    this.#g = graph;
    this.#o = options;
    this.#done = done;
    this.#clock = options.clock ?? new SchedulerClock();
    this.#pending = graph.pendingInit.slice();
    this.#status = new Uint8Array(graph.n);
    this.#attempt = new Int32Array(graph.n);
    this.#slots = new Array<unknown>(graph.inputStart[graph.n]);
    this.#outputs = new Array<unknown>(graph.n);
    this.#heap = new ReadyHeap(graph.priority, graph.n);
    this.#parked = new Array<ReadyHeap | undefined>(graph.providers.length);
    this.#providerInFlight = new Int32Array(graph.providers.length);
    this.#firstCtx = Object.freeze({ signal: this.controller.signal, attempt: 1 });
  }

  start(): void {
    const t = performance.now();
    const pending = this.#pending;
    for (let i = 0; i < this.#g.n; i++) {
      if (pending[i] === 0) {
        this.#status[i] = QUEUED;
        this.#heap.push(i);
      }
    }
    this.#clock.phaseMs[READY]! += performance.now() - t;
    this.#pump(performance.now());
  }

  /** Ends the run now (timeout or cancel): in-flight nodes fail with `reason` and see it on their signal. */
  abort(reason: unknown): void {
    if (this.#finished) return;
    const status = this.#status;
    for (let i = 0; i < this.#g.n; i++) {
      if (status[i] !== RUNNING) continue;
      status[i] = FAILED;
      this.#errors.set(i, reason);
      this.#failed.push(i);
      if (this.#g.container[i] === 0) this.#clock.failed++;
    }
    this.#clock.inFlightChange(-this.#inFlight, performance.now());
    this.#inFlight = 0;
    this.#running = 0;
    // Abort first: nested graphs sharing the clock record their aborted nodes before the snapshot.
    this.controller.abort(reason);
    this.#finish(true, reason);
  }

  /** Dispatches ready nodes while the limits allow; `t` is the start of the current timed section. */
  #pump(t: number): void {
    const g = this.#g;
    const clock = this.#clock;
    const ph = clock.phaseMs;
    while (!this.#finished && this.#inFlight < this.#o.concurrency) {
      const id = this.#pickNext();
      let t1 = performance.now();
      ph[PICK]! += t1 - t;
      t = t1;
      if (id < 0) break;
      const start = g.inputStart[id]!;
      const end = g.inputStart[id + 1]!;
      const inputs = start === end ? NO_INPUTS : this.#slots.slice(start, end);
      t1 = performance.now();
      ph[COLLECT]! += t1 - t;
      t = this.#dispatch(id, inputs, this.#firstCtx, t1);
    }
    if (!this.#finished && (this.#settled === g.n || (this.#running === 0 && this.#heap.size === 0))) this.#finish(false, undefined);
  }

  #pickNext(): number {
    const providerOf = this.#g.providerOf;
    for (;;) {
      const id = this.#heap.pop();
      if (id < 0) return -1;
      const p = providerOf[id]!;
      if (p >= 0 && this.#providerInFlight[p]! >= this.#o.providerLimit[p]!) {
        // The provider is saturated: park the node until one of its calls settles.
        (this.#parked[p] ??= new ReadyHeap(this.#g.priority, 16)).push(id);
        continue;
      }
      return id;
    }
  }

  #dispatch(id: number, inputs: readonly unknown[], ctx: TaskContext, t: number): number {
    const p = this.#g.providerOf[id]!;
    const ph = this.#clock.phaseMs;
    if (this.#attempt[id] === 0) {
      this.#attempt[id] = 1;
      if (this.#g.container[id] === 0) this.#clock.executed++;
    }
    if (p >= 0 && this.#o.breakers !== undefined) {
      const until = this.#o.breakers.openUntil(p);
      if (until >= 0) return this.#failFinal(id, new CircuitOpenError(this.#g.providers[p]!, until), t, DISPATCH);
    }
    if (this.#status[id] !== RUNNING) {
      this.#status[id] = RUNNING;
      this.#running++;
      if (this.#g.container[id] === 0) {
        this.#inFlight++;
        this.#clock.inFlightChange(1, t);
      }
      if (p >= 0) this.#providerInFlight[p]! += 1;
    }
    const before = performance.now();
    ph[DISPATCH]! += before - t;
    let result: unknown;
    try {
      result = this.#g.nodes[id]!.run(inputs, ctx);
    } catch (err) {
      return this.#onError(id, err, performance.now());
    }
    const after = performance.now();
    if (result !== null && (typeof result === 'object' || typeof result === 'function') && typeof (result as { then?: unknown }).then === 'function') {
      void Promise.resolve(result).then(
        (value) => this.#pump(this.#succeed(id, value, performance.now())),
        (err) => this.#pump(this.#onError(id, err, performance.now())),
      );
      const t2 = performance.now();
      ph[DISPATCH]! += t2 - after;
      return t2;
    }
    return this.#succeed(id, result, after);
  }

  /** Frees the node's concurrency slots; a parked node of the same provider goes back to the heap. */
  #release(id: number, t: number): number {
    const ph = this.#clock.phaseMs;
    this.#running--;
    if (this.#g.container[id] === 0) {
      this.#inFlight--;
      this.#clock.inFlightChange(-1, t);
    }
    const p = this.#g.providerOf[id]!;
    let t1 = performance.now();
    ph[DISPATCH]! += t1 - t;
    if (p < 0) return t1;
    this.#providerInFlight[p]! -= 1;
    const parked = this.#parked[p];
    if (parked !== undefined && parked.size > 0) {
      this.#heap.push(parked.pop());
      const t2 = performance.now();
      ph[PICK]! += t2 - t1;
      t1 = t2;
    }
    return t1;
  }

  #succeed(id: number, value: unknown, t: number): number {
    if (this.#finished) return t;
    const g = this.#g;
    const ph = this.#clock.phaseMs;
    t = this.#release(id, t);
    const p = g.providerOf[id]!;
    if (p >= 0) this.#o.breakers?.success(p);
    this.#status[id] = DONE;
    this.#settled++;
    this.#outputs[id] = value;
    const target = g.fallbackFor[id]!;
    this.#route(id, value);
    // A switch default that ran stands in for its failed target: the target's consumers get this output.
    if (target >= 0) this.#route(target, value);
    const t1 = performance.now();
    ph[ROUTE]! += t1 - t;
    this.#releaseConsumers(id);
    if (target >= 0) this.#releaseConsumers(target);
    const fallback = g.fallbackOf[id]!;
    if (fallback >= 0 && this.#status[fallback] === PENDING) this.#skip(fallback);
    const t2 = performance.now();
    ph[READY]! += t2 - t1;
    return t2;
  }

  #route(from: number, value: unknown): void {
    const g = this.#g;
    const slots = this.#slots;
    for (let e = g.consumerStart[from]!, end = g.consumerStart[from + 1]!; e < end; e++) slots[g.consumerSlot[e]!] = value;
  }

  #releaseConsumers(from: number): void {
    const g = this.#g;
    const pending = this.#pending;
    const status = this.#status;
    for (let e = g.consumerStart[from]!, end = g.consumerStart[from + 1]!; e < end; e++) {
      const c = g.consumers[e]!;
      if (--pending[c]! === 0 && status[c] === PENDING) {
        status[c] = QUEUED;
        this.#heap.push(c);
      }
    }
  }

  #onError(id: number, err: unknown, t: number): number {
    if (this.#finished) return t;
    const p = this.#g.providerOf[id]!;
    if (p >= 0) this.#o.breakers?.failure(p);
    const retry = this.#o.retry;
    const attempt = this.#attempt[id]!;
    if (retry !== undefined && attempt < retry.maxAttempts) {
      const reason = (retry.classify ?? classifyRetry)(err);
      if (reason !== null) {
        const delay = backoffMs(retry, attempt, err, this.#o.random);
        // setTimeout's extra argument carries the id: no closure per retry.
        this.#retryTimers.set(id, setTimeout(this.#retryNow, delay, id));
        const t1 = performance.now();
        this.#clock.phaseMs[DISPATCH]! += t1 - t;
        // The callback records the retry through the SDK; its time is the runtime's, not ours.
        this.#o.onRetry?.(this.#g.nodes[id]!, reason, attempt, delay / 1000);
        return performance.now();
      }
    }
    return this.#failFinal(id, err, t, DISPATCH);
  }

  readonly #retryNow = (id: number): void => {
    this.#retryTimers.delete(id);
    if (this.#finished) return;
    const attempt = ++this.#attempt[id]!;
    const t = performance.now();
    const g = this.#g;
    const start = g.inputStart[id]!;
    const end = g.inputStart[id + 1]!;
    const inputs = start === end ? NO_INPUTS : this.#slots.slice(start, end);
    const t1 = performance.now();
    this.#clock.phaseMs[COLLECT]! += t1 - t;
    this.#pump(this.#dispatch(id, inputs, { signal: this.controller.signal, attempt }, t1));
  };

  /** The node has failed for good: fail its dependents transitively, or hand over to its switch default. */
  #failFinal(id: number, err: unknown, t: number, phase: number): number {
    const ph = this.#clock.phaseMs;
    if (this.#status[id] === RUNNING) t = this.#release(id, t);
    else {
      const t1 = performance.now();
      ph[phase]! += t1 - t;
      t = t1;
    }
    if (this.#g.container[id] === 0) this.#clock.failed++;
    this.#markFailed(id, err);
    const g = this.#g;
    const status = this.#status;
    const stack = [id];
    for (let y = stack.pop(); y !== undefined; y = stack.pop()) {
      const fallback = g.fallbackOf[y]!;
      if (fallback >= 0 && status[fallback] === PENDING && y === id) {
        // y ran and failed: its consumers wait for the default's output instead (the switch routes to `default`).
        if (--this.#pending[fallback]! === 0) {
          status[fallback] = QUEUED;
          this.#heap.push(fallback);
        }
      } else {
        // y never ran because an input failed: there was no choice to make, so its default
        // does not run either (its effects and cost would belong to a run that never routed).
        if (fallback >= 0 && status[fallback] === PENDING) {
          this.#markFailed(fallback, new DependencyFailedError(fallback, y));
          stack.push(fallback);
        }
        this.#failConsumers(y, y, stack);
      }
      const target = g.fallbackFor[y]!;
      // The default failed after its target did: the switch has no output for the target's consumers.
      if (target >= 0 && status[target] === FAILED) this.#failConsumers(target, target, stack);
    }
    const t2 = performance.now();
    ph[READY]! += t2 - t;
    return t2;
  }

  #failConsumers(from: number, cause: number, stack: number[]): void {
    const g = this.#g;
    for (let e = g.consumerStart[from]!, end = g.consumerStart[from + 1]!; e < end; e++) {
      const c = g.consumers[e]!;
      if (this.#status[c] !== PENDING) continue;
      this.#markFailed(c, new DependencyFailedError(c, cause));
      stack.push(c);
    }
  }

  #markFailed(id: number, err: unknown): void {
    this.#status[id] = FAILED;
    this.#settled++;
    this.#errors.set(id, err);
    this.#failed.push(id);
  }

  #skip(root: number): void {
    const g = this.#g;
    const stack = [root];
    for (let y = stack.pop(); y !== undefined; y = stack.pop()) {
      if (this.#status[y] !== PENDING) continue;
      this.#status[y] = SKIPPED;
      this.#settled++;
      this.#skipped.push(y);
      for (let e = g.consumerStart[y]!, end = g.consumerStart[y + 1]!; e < end; e++) stack.push(g.consumers[e]!);
    }
  }

  #finish(aborted: boolean, reason: unknown): void {
    this.#finished = true;
    for (const timer of this.#retryTimers.values()) clearTimeout(timer);
    this.#retryTimers.clear();
    const metrics = this.#clock.snapshot();
    this.#done({ outputs: this.#outputs, errors: this.#errors, failed: this.#failed, skipped: this.#skipped, aborted, ...(aborted ? { abortReason: reason } : {}), metrics });
  }
}
