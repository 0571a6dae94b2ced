/**
 * The kernel worker's entry point (Node only: bundled by scripts/build.mjs into the self-contained
 * `dist/worker/tfdrr_kernel_worker.mjs`; nothing in the library imports it). Runs each posted
 * `WorkerTask` (its share of a kernel call's rays, arrays in shared memory), reports a failure on
 * its reply port, then counts itself done in the shared counter and wakes the waiting thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runRayKernel, viewsOf, type WorkerFailure, type WorkerTask } from './kernel_tasks.js';
import { PROTOCOL, type WorkerInit } from './thread_pool.js';

const init = workerData as WorkerInit;
if (parentPort === null || init?.protocol !== PROTOCOL) {
  if (init?.status instanceof SharedArrayBuffer) {
    const status = new Int32Array(init.status);
    Atomics.store(status, 0, -1); // tells the pool at once (it waits for 1)
    Atomics.notify(status, 0);
  }
  throw new Error(`tfdrr kernel worker: started without its pool, or by a pool of another version (protocol ${String(init?.protocol)}, this script's: ${PROTOCOL})`);
}
const done = new Int32Array(init.done);
const status = new Int32Array(init.status);

parentPort.on('message', (task: WorkerTask) => {
  try {
    runRayKernel(task.spec, viewsOf(task.refs), task.range);
  } catch (e) {
    const error = e instanceof Error ? e : new Error(String(e));
    const failure: WorkerFailure = { seq: task.seq, name: error.name, message: error.message, stack: error.stack };
    init.replies.postMessage(failure);
    Atomics.store(status, 1, task.seq);
  } finally {
    Atomics.add(done, 0, 1);
    Atomics.notify(done, 0);
  }
});

Atomics.store(status, 0, 1);
Atomics.notify(status, 0);
