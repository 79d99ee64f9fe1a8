/**
 * One process 'exit' listener for all meters, holding them weakly: a meter that is
 * garbage-collected or closed leaves no listener behind (pino's on-exit-leak-free idea).
 * At exit only synchronous work can run, which is exactly what the file and log sinks do.
 */
const meters = new Map<object, { readonly ref: WeakRef<object>; readonly drain: () => void }>();
let installed = false;

function onExit(): void {
  for (const { ref, drain } of meters.values()) {
    if (ref.deref() === undefined) continue;
    try {
      drain();
    } catch {
      // Exiting anyway; a sink failure must not change the exit code.
    }
  }
}

export function trackForExit(meter: object, drain: () => void): void {
  meters.set(meter, { ref: new WeakRef(meter), drain });
  if (!installed) {
    installed = true;
    process.on('exit', onExit);
  }
}

export function untrackForExit(meter: object): void {
  meters.delete(meter);
  if (meters.size === 0 && installed) {
    installed = false;
    process.removeListener('exit', onExit);
  }
}
