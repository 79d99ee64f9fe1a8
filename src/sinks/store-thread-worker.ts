/**
 * The worker side of StoreThreadSink: an ordinary StoreSink that opens the store itself,
 * fed the batches the main thread posts (one message per turn of its event loop), each on
 * its own and in order, so its rows, sampling and retries are the ones it makes on the
 * event loop. After every batch and every write it publishes its stats, and how many
 * batches are settled, to the memory it shares with the main thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { storeSinkAt } from './store.js';
import type { FromStoreThread, StoreThreadSetup, ToStoreThread } from './store-thread.js';
import { StoreThreadProgress } from './store-thread-progress.js';
import { toThreadError } from './worker-thread.js';

const port = parentPort!;
const { options, progress: buffer } = workerData as StoreThreadSetup;
const { store, ...sinkOptions } = options;
const progress = new StoreThreadProgress(buffer);
/** Batches taken, wrapping as the main thread's count does. */
let received = 0;
let receivedEvents = 0;

const send = (message: FromStoreThread): void => port.postMessage(message);

function publish(): void {
  progress.publish(sink.stats(), receivedEvents);
  // Settled: committed, or dropped and counted. The main thread blocks on this at exit.
  if (sink.idle) progress.settle(received);
}

const sink = storeSinkAt(store, {
  ...sinkOptions,
  onWarning: (message, code) => send({ type: 'warning', message, code }),
  onProgress: publish,
});

port.on('message', (message: ToStoreThread) => {
  switch (message.type) {
    case 'write':
      for (const batch of message.batches) {
        try {
          sink.write(batch);
        } finally {
          received = (received + 1) | 0;
          receivedEvents += batch.length;
        }
      }
      publish();
      break;
    case 'flush':
      void sink.flush().then(() => {
        publish();
        send({ type: 'flushed', id: message.id });
      });
      break;
    case 'drain':
      void sink.flush().then(publish);
      break;
    case 'ready':
      sink.ready().then(
        () => send({ type: 'ready', id: message.id }),
        (err: unknown) => send({ type: 'ready', id: message.id, error: toThreadError(err) }),
      );
      break;
    case 'close':
      void sink.close().then(() => {
        publish();
        send({ type: 'closed' });
      });
      break;
    default: {
      const unreachable: never = message;
      return unreachable;
    }
  }
});
