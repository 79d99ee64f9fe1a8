/**
 * The scheduler section of apxm's `--emit-metrics` JSON, field for field (seed 000), with
 * every field measured. Phases are timed with `performance.now()` around the scheduler's
 * own code only; a node's work, time waiting for an LLM, backoff sleeps and idle time
 * between completions are never inside a timed section (apxm counts idle polling as
 * "work stealing" and leaves two phases at 0; we do neither).
 */
/**
 * Each breakdown field is that phase's total divided by `operations_executed`, so the five
 * add up to `per_op_overhead_us` — as in apxm's own example (3.71 + 0.49 + 0.54 ≈ 4.73).
 */
export interface OverheadBreakdown {
  /**
   * Updating which nodes are ready: decrementing consumers' pending-input counters, pushing
   * nodes whose counter reached zero onto the ready heap, and marking dependents of a failed
   * node failed (or skipped, for an unneeded fallback).
   */
  readonly ready_set_update_us: number;
  /**
   * There are no worker threads to steal from in a single-threaded event loop, so this field
   * measures its counterpart: choosing the next runnable node — popping the priority heap,
   * parking nodes whose provider is at its concurrency limit in that provider's queue, and
   * moving a parked node back when its provider frees a slot.
   */
  readonly work_stealing_us: number;
  /** Gathering a node's inputs from its input slots into the array passed to `run`. */
  readonly input_collection_us: number;
  /**
   * The scheduler's code around the call into a node: circuit-breaker check, in-flight and
   * parallelism accounting, and, after `run` returns, checking for a promise and attaching
   * the settlement handlers; also scheduling a retry. The call itself — the node's own
   * synchronous work up to its first await — is excluded.
   */
  readonly operation_dispatch_us: number;
  /** Writing a finished node's output to its result slot and to each consumer's input slot. */
  readonly token_routing_us: number;
}

export interface SchedulerMetrics {
  /** Total time in the five overhead phases divided by `operations_executed` (0 if nothing ran). */
  readonly per_op_overhead_us: number;
  readonly overhead_breakdown: OverheadBreakdown;
  /** Most nodes in flight at once. A node is in flight from dispatch until it settles, retries and backoff included. */
  readonly max_parallelism: number;
  /**
   * Time-weighted mean of the number of nodes in flight over the wall time during which at
   * least one node was in flight (idle gaps excluded); 0 if nothing ran.
   */
  readonly avg_parallelism: number;
  /** Nodes the scheduler dispatched (each node once, however many attempts it took). */
  readonly operations_executed: number;
  /**
   * Dispatched nodes that ended in error: thrown after the last attempt, failed fast on an
   * open circuit, or aborted in flight. Dependents that never ran are in `failed`, not here.
   */
  readonly operations_failed: number;
}

export const READY = 0;
export const PICK = 1;
export const COLLECT = 2;
export const DISPATCH = 3;
export const ROUTE = 4;

/** Accumulators shared by a run: phase times (ms) and the in-flight integral. */
export class SchedulerClock {
  readonly phaseMs = new Float64Array(5);
  /** Nodes dispatched (once each) and dispatched nodes that failed, over every run sharing the clock. */
  executed = 0;
  failed = 0;
  inFlight = 0;
  maxInFlight = 0;
  /** Integral of in-flight count over time (node·ms) and the busy wall time (ms). */
  area = 0;
  busyMs = 0;
  #since = 0;

  /** Changes the in-flight count by `delta` at time `t` (ms), integrating the previous level. */
  inFlightChange(delta: number, t: number): void {
    if (this.inFlight > 0) {
      const dt = t - this.#since;
      this.area += this.inFlight * dt;
      this.busyMs += dt;
    }
    this.#since = t;
    this.inFlight += delta;
    if (this.inFlight > this.maxInFlight) this.maxInFlight = this.inFlight;
  }

  snapshot(): SchedulerMetrics {
    const executed = this.executed;
    const failed = this.failed;
    const perOp = (phase: number): number => (executed > 0 ? (this.phaseMs[phase]! * 1000) / executed : 0);
    return {
      per_op_overhead_us: perOp(READY) + perOp(PICK) + perOp(COLLECT) + perOp(DISPATCH) + perOp(ROUTE),
      overhead_breakdown: {
        ready_set_update_us: perOp(READY),
        work_stealing_us: perOp(PICK),
        input_collection_us: perOp(COLLECT),
        operation_dispatch_us: perOp(DISPATCH),
        token_routing_us: perOp(ROUTE),
      },
      max_parallelism: this.maxInFlight,
      // A sync node is in flight for a sub-microsecond interval; with no measurable busy time it still ran one at a time.
      avg_parallelism: this.busyMs > 0 ? this.area / this.busyMs : executed > 0 ? 1 : 0,
      operations_executed: executed,
      operations_failed: failed,
    };
  }
}
