/**
 * One process 'exit' listener for all meters, holding them weakly: a meter that is
 * garbage-collected or closed leaves no listener behind (pino's on-exit-leak-free idea).
 * At exit only synchronous work can run, which is exactly what the file and log sinks do
 * (files and store rows written on a thread are waited for with Atomics.wait, see
 * JsonlThreadSink and StoreThreadSink).
 *
 * Nothing here may hold a meter strongly: the drain closes over its meter, so it lives in
 * a WeakMap keyed by that meter (an ephemeron: the value does not keep its key alive).
 */
const drains = new WeakMap<object, () => void>();
const refs = new WeakMap<object, WeakRef<object>>();
const live = new Set<WeakRef<object>>();
const collected = new FinalizationRegistry<WeakRef<object>>((ref) => forget(ref));
let installed = false;

function onExit(): void {
  for (const ref of live) {
    const meter = ref.deref();
    if (meter === undefined) continue;
    try {
      drains.get(meter)?.();
    } catch {
      // Exiting anyway; a sink failure must not change the exit code.
    }
  }
}

function forget(ref: WeakRef<object>): void {
  live.delete(ref);
  if (live.size === 0 && installed) {
    installed = false;
    process.removeListener('exit', onExit);
  }
}

export function trackForExit(meter: object, drain: () => void): void {
  drains.set(meter, drain);
  if (refs.has(meter)) return;
  const ref = new WeakRef(meter);
  refs.set(meter, ref);
  live.add(ref);
  collected.register(meter, ref, ref);
  if (!installed) {
    installed = true;
    process.on('exit', onExit);
  }
}

export function untrackForExit(meter: object): void {
  const ref = refs.get(meter);
  if (ref === undefined) return;
  refs.delete(meter);
  drains.delete(meter);
  collected.unregister(ref);
  forget(ref);
}
