/**
 * The worker side of JsonlThreadSink: an ordinary JsonlSink, fed the batches the main
 * thread posts (one message per turn of its event loop), each on its own and in order.
 * The files are written by the very code that writes them on the event loop, so their
 * contents cannot differ.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { JsonlSink } from './jsonl.js';
import type { ToThread, ThreadSetup } from './jsonl-thread.js';
import { toThreadError } from './worker-thread.js';

const port = parentPort!;
const { options, written } = workerData as ThreadSetup;
const done = new Int32Array(written);

const sink = new JsonlSink({ ...options, onError: (err) => port.postMessage({ type: 'error', error: toThreadError(err) }) });

port.on('message', (message: ToThread) => {
  switch (message.type) {
    case 'write':
      for (const batch of message.batches) {
        try {
          sink.write(batch);
        } finally {
          // Counted even when the batch failed: the main thread waits on this at exit.
          Atomics.add(done, 0, 1);
        }
      }
      Atomics.notify(done, 0);
      break;
    case 'flush':
      // Messages arrive in order: every batch posted before this one is written, and its errors sent.
      port.postMessage({ type: 'flushed', id: message.id });
      break;
    case 'close':
      sink.close();
      port.postMessage({ type: 'closed' });
      break;
    default: {
      const unreachable: never = message;
      return unreachable;
    }
  }
});
