import { parentPort, workerData } from 'node:worker_threads';
import { toWire, type WorkerReply } from './worker-pool.ts';

/**
 * The worker side of `WorkerPool`: `init` runs once (load models, warm up) and returns
 * the task function; tasks then arrive one at a time.
 */
export function serveWorker<I, O>(init: (data: unknown) => Promise<(input: I) => Promise<O>> | ((input: I) => Promise<O>)): void {
  const port = parentPort;
  if (!port) throw new Error('serveWorker must run in a worker thread');
  const post = (msg: WorkerReply<O>) => port.postMessage(msg);
  Promise.resolve()
    .then(() => init((workerData as { data: unknown }).data))
    .then(
      (task) => {
        port.on('message', (msg: { id: number; input: I }) => {
          Promise.resolve()
            .then(() => task(msg.input))
            .then(
              (output) => post({ id: msg.id, ok: true, output }),
              (err: unknown) => post({ id: msg.id, ok: false, error: toWire(err) }),
            );
        });
        post({ ready: true });
      },
      (err: unknown) => post({ ready: false, error: toWire(err) }),
    );
}
