import { PerformanceObserver, monitorEventLoopDelay } from 'node:perf_hooks';
import type { IntervalHistogram } from 'node:perf_hooks';
import type { Registry } from '../recorder/index.js';

/** One sample of the process, as the WebSocket's `system` message and `/healthz` carry it. */
export interface SystemSample {
  readonly timestamp: string;
  /** CPU time (user + system) over the last interval, as a share of one core (1 = one core busy). */
  readonly cpu_cores: number;
  readonly rss_bytes: number;
  readonly heap_used_bytes: number;
  readonly heap_total_bytes: number;
  /** Event-loop delay over the last interval, from perf_hooks' monitorEventLoopDelay. */
  readonly event_loop_delay_p50_ms: number;
  readonly event_loop_delay_p99_ms: number;
  readonly event_loop_delay_max_ms: number;
  /** Garbage-collection pauses over the last interval. */
  readonly gc_pauses: number;
  readonly gc_pause_ms: number;
  /** Open handles and requests by type (sockets, timers, files…), from process.getActiveResourcesInfo(). */
  readonly active_resources: number;
  /** Events waiting in the audit queue, and events it dropped since start, when a meter is watched. */
  readonly audit_queue_depth: number | null;
  readonly audit_queue_dropped: number | null;
}

export interface SystemMetricsOptions {
  /** Default 10,000 ms. */
  readonly intervalMs?: number;
  /** The audit queue to report: its depth and drops so far. */
  readonly queue?: () => { readonly depth: number; readonly dropped: number };
  readonly onSample?: (sample: SystemSample) => void;
}

const NS_PER_MS = 1e6;

/**
 * Samples the process at an interval with Node's own instruments — `process.cpuUsage`,
 * `process.memoryUsage`, `perf_hooks.monitorEventLoopDelay`, a `gc` PerformanceObserver and
 * `process.getActiveResourcesInfo` — into gauges and counters of a registry (so they are on
 * `/metrics`) and hands each sample to `onSample`. Its timer does not keep the process alive.
 */
export class SystemMetrics {
  readonly #loop: IntervalHistogram;
  readonly #gc: PerformanceObserver;
  readonly #timer: NodeJS.Timeout;
  readonly #options: SystemMetricsOptions;
  #lastCpu = process.cpuUsage();
  #lastAt = performance.now();
  #gcCount = 0;
  #gcMs = 0;
  #latest: SystemSample | undefined;
  readonly #g;

  constructor(registry: Registry, options: SystemMetricsOptions = {}) {
    this.#options = options;
    const gauge = (name: string, help: string, labelNames: string[] = []) => registry.gauge({ name, help, labelNames });
    this.#g = {
      cpu: registry.counter({ name: 'flowmeter_process_cpu_seconds_total', help: 'CPU time (user and system) the process used.', labelNames: ['mode'] }),
      rss: gauge('flowmeter_process_resident_memory_bytes', 'Resident memory of the process.').labels(),
      heapUsed: gauge('flowmeter_nodejs_heap_used_bytes', 'V8 heap in use.').labels(),
      heapTotal: gauge('flowmeter_nodejs_heap_total_bytes', 'V8 heap allocated.').labels(),
      loop: gauge('flowmeter_nodejs_eventloop_delay_seconds', 'Event-loop delay over the last sampling interval.', ['quantile']),
      gcPauses: registry.counter({ name: 'flowmeter_nodejs_gc_pauses_total', help: 'Garbage-collection pauses.', labelNames: [] }).labels(),
      gcSeconds: registry.counter({ name: 'flowmeter_nodejs_gc_pause_seconds_total', help: 'Time spent in garbage-collection pauses.', labelNames: [] }).labels(),
      resources: gauge('flowmeter_nodejs_active_resources', 'Open handles and requests keeping the event loop alive, by type.', ['type']),
      queueDepth: gauge('flowmeter_audit_queue_depth', 'Events waiting in the audit queue.').labels(),
    };
    this.#loop = monitorEventLoopDelay({ resolution: 10 });
    this.#loop.enable();
    this.#gc = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        this.#gcCount++;
        this.#gcMs += entry.duration;
      }
    });
    this.#gc.observe({ entryTypes: ['gc'] });
    this.#timer = setInterval(() => this.sample(), options.intervalMs ?? 10_000);
    this.#timer.unref();
  }

  /** The last sample, if one was taken. */
  get latest(): SystemSample | undefined {
    return this.#latest;
  }

  /** Takes a sample now (the timer calls it every interval). */
  sample(): SystemSample {
    const now = performance.now();
    const cpu = process.cpuUsage(this.#lastCpu);
    const elapsedMs = Math.max(1e-3, now - this.#lastAt);
    this.#lastCpu = process.cpuUsage();
    this.#lastAt = now;
    this.#g.cpu.labels('user').inc(cpu.user / 1e6);
    this.#g.cpu.labels('system').inc(cpu.system / 1e6);
    const mem = process.memoryUsage();
    this.#g.rss.set(mem.rss);
    this.#g.heapUsed.set(mem.heapUsed);
    this.#g.heapTotal.set(mem.heapTotal);
    const p50 = this.#loop.percentile(50) / NS_PER_MS;
    const p99 = this.#loop.percentile(99) / NS_PER_MS;
    const max = this.#loop.max / NS_PER_MS;
    this.#loop.reset();
    this.#g.loop.labels('0.5').set(p50 / 1000);
    this.#g.loop.labels('0.99').set(p99 / 1000);
    this.#g.loop.labels('1').set(max / 1000);
    const gcPauses = this.#gcCount;
    const gcMs = this.#gcMs;
    this.#gcCount = 0;
    this.#gcMs = 0;
    this.#g.gcPauses.inc(gcPauses);
    this.#g.gcSeconds.inc(gcMs / 1000);
    const resources = process.getActiveResourcesInfo();
    const byType = new Map<string, number>();
    for (const type of resources) byType.set(type, (byType.get(type) ?? 0) + 1);
    for (const [type, n] of byType) this.#g.resources.labels(type).set(n);
    const queue = this.#options.queue?.();
    if (queue !== undefined) this.#g.queueDepth.set(queue.depth);
    const sample: SystemSample = {
      timestamp: new Date().toISOString(),
      cpu_cores: (cpu.user + cpu.system) / 1000 / elapsedMs,
      rss_bytes: mem.rss,
      heap_used_bytes: mem.heapUsed,
      heap_total_bytes: mem.heapTotal,
      event_loop_delay_p50_ms: p50,
      event_loop_delay_p99_ms: p99,
      event_loop_delay_max_ms: max,
      gc_pauses: gcPauses,
      gc_pause_ms: gcMs,
      active_resources: resources.length,
      audit_queue_depth: queue?.depth ?? null,
      audit_queue_dropped: queue?.dropped ?? null,
    };
    this.#latest = sample;
    this.#options.onSample?.(sample);
    return sample;
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#loop.disable();
    this.#gc.disconnect();
  }
}
