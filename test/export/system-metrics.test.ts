import { describe, expect, it } from 'vitest';
import { SystemMetrics } from '../../src/export/system-metrics.js';
import type { SystemSample } from '../../src/export/system-metrics.js';
import { renderRegistry } from '../../src/export/prometheus/index.js';
import { createMeter } from '../../src/meter/index.js';
import { Registry } from '../../src/recorder/index.js';

const sampleValue = (text: string, name: string): number => {
  const line = text.split('\n').find((l) => l.startsWith(name + ' ') || l.startsWith(name + '{'));
  return line === undefined ? NaN : Number(line.slice(line.lastIndexOf(' ') + 1));
};

describe('SystemMetrics', () => {
  it('samples CPU, memory, event-loop delay, GC pauses and open handles into the registry', async () => {
    const registry = new Registry();
    const samples: SystemSample[] = [];
    const system = new SystemMetrics(registry, { intervalMs: 60_000, queue: () => ({ depth: 7, dropped: 2 }), onSample: (s) => samples.push(s) });
    try {
      await new Promise((r) => setTimeout(r, 50));
      // Keep the event loop busy for 60 ms, and make garbage.
      const until = performance.now() + 60;
      let junk: number[][] = [];
      while (performance.now() < until) junk.push(new Array<number>(1000).fill(1));
      junk = [];
      await new Promise((r) => setTimeout(r, 30));
      const s = system.sample();
      expect(samples).toEqual([s]);
      expect(s.rss_bytes).toBeGreaterThan(10_000_000);
      expect(s.heap_used_bytes).toBeGreaterThan(0);
      expect(s.heap_total_bytes).toBeGreaterThanOrEqual(s.heap_used_bytes);
      expect(s.cpu_cores).toBeGreaterThan(0.2);
      expect(s.event_loop_delay_max_ms).toBeGreaterThanOrEqual(40);
      expect(s.gc_pauses).toBeGreaterThan(0);
      expect(s.gc_pause_ms).toBeGreaterThan(0);
      expect(s.active_resources).toBeGreaterThan(0);
      expect(s).toMatchObject({ audit_queue_depth: 7, audit_queue_dropped: 2 });
      const text = renderRegistry(registry, 'text');
      expect(sampleValue(text, 'flowmeter_process_resident_memory_bytes')).toBe(s.rss_bytes);
      expect(sampleValue(text, 'flowmeter_audit_queue_depth')).toBe(7);
      expect(text).toMatch(/^flowmeter_nodejs_eventloop_delay_seconds\{quantile="1"\} 0\.0[4-9]\d*|^flowmeter_nodejs_eventloop_delay_seconds\{quantile="1"\} 0\.[1-9]/m);
      expect(text).toMatch(/^flowmeter_process_cpu_seconds_total\{mode="user"\} [0-9.e-]+$/m);
      expect(sampleValue(text, 'flowmeter_nodejs_gc_pauses_total')).toBe(s.gc_pauses);
      expect(text).toMatch(/^flowmeter_nodejs_active_resources\{type="[A-Za-z]+"\} [1-9]/m);
      // The next interval starts from zero: no GC and little delay in an idle 20 ms.
      await new Promise((r) => setTimeout(r, 20));
      expect(system.sample().event_loop_delay_max_ms).toBeLessThan(s.event_loop_delay_max_ms);
    } finally {
      system.stop();
    }
  });

  it('is opt-in on a meter: createMeter({ systemMetrics }) puts the process on meter.metrics()', async () => {
    const off = createMeter({ runsDir: false, store: false, log: false, env: {} });
    const on = createMeter({ runsDir: false, store: false, log: false, env: {}, systemMetrics: { intervalMs: 20 } });
    try {
      await new Promise((r) => setTimeout(r, 80));
      expect(off.metrics()).not.toContain('flowmeter_process_resident_memory_bytes');
      expect(sampleValue(on.metrics(), 'flowmeter_process_resident_memory_bytes')).toBeGreaterThan(10_000_000);
      expect(sampleValue(on.metrics(), 'flowmeter_audit_queue_depth')).toBe(0);
    } finally {
      await off.close();
      await on.close();
    }
  });
});
