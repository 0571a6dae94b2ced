/**
 * The persistent pool of kernel workers (Node `worker_threads`) and the synchronous fork-join a
 * fused kernel runs on it: post one task per worker, do the calling thread's own share, then block
 * in `Atomics.wait` on a shared counter until every worker has counted itself done. tf.js kernels
 * are synchronous, so the calling thread never yields to its event loop meanwhile: everything it
 * needs back comes through shared memory, and a worker's error through its reply port, read with
 * `receiveMessageOnPort`.
 *
 * Workers are started lazily, `unref()`ed (an idle pool never keeps the process alive) and kept
 * between calls. They are shared by every copy of this module in the process (the ES build and
 * the CommonJS bundle, jest's per-file module registries): the worker set hangs off the real
 * `process` object, keyed by the worker script and `PROTOCOL`, so a test suite that loads tfdrr
 * afresh in each file does not leave a stranded set of idle threads per file.
 *
 * Future work: Web Workers in browsers (there `Atomics.wait` is not allowed on the main thread,
 * and a worker cannot be started synchronously); browser bundles run single-threaded.
 */
import type { MessagePort, Worker } from 'node:worker_threads';
import type { WorkerFailure, WorkerTask } from './kernel_tasks.js';
import { nodeBuiltin, type NodeBuiltins } from './node_builtins.js';

/** Version of the messages between this module and the worker script (part of the pool's key). */
export const PROTOCOL = 1;

/** How long a new worker may take to load its script before threads are given up (ms). */
export const STARTUP_TIMEOUT_MS = 15_000;

/**
 * How long the calling thread waits for its workers (ms): at least this, and at least
 * `TASK_TIMEOUT_FACTOR` times what its own share took (the shares are of equal size).
 */
export const MIN_TASK_TIMEOUT_MS = 60_000;
export const TASK_TIMEOUT_FACTOR = 50;

/** What `workerData` holds (read by worker.ts). */
export interface WorkerInit {
  protocol: number;
  /** Int32 `[1]`: tasks finished in the current call, counted by the workers. */
  done: SharedArrayBuffer;
  /** Int32 `[2]`: `[0]` 1 once the worker listens (-1: wrong protocol); `[1]` seq of its last failed task. */
  status: SharedArrayBuffer;
  /** Where the worker posts a `WorkerFailure`. */
  replies: MessagePort;
}

interface WorkerSlot {
  worker: Worker;
  replies: MessagePort;
  status: Int32Array;
  /** False once the worker has exited or failed outside a task (seen between calls). */
  alive: boolean;
}

/** The process-wide state of one pool (plain data: shared across module copies). */
interface WorkerSet {
  slots: WorkerSlot[];
  done: Int32Array;
  seq: number;
  /** Why threads are unavailable (a worker did not start), or null. */
  failed: string | null;
}

const REGISTRY = Symbol.for('tfdrr.kernelWorkerSets');

/** The process-wide registry of worker sets, on the real `process` object (or a local map without one). */
function registry(): Map<string, WorkerSet> {
  const proc = nodeBuiltin('node:process') as unknown as Record<symbol, Map<string, WorkerSet> | undefined> | null;
  if (proc === null) return (localRegistry ??= new Map());
  return (proc[REGISTRY] ??= new Map());
}
let localRegistry: Map<string, WorkerSet> | undefined;

/** An Error on this thread with a worker's error's name, message and stack. */
function errorOf(failure: WorkerFailure, worker: number): Error {
  const error = new Error(failure.message);
  error.name = failure.name;
  if (failure.stack) error.stack = `${failure.stack}\n    (in tfdrr kernel worker ${worker})`;
  return error;
}

/** Waits (blocking) until `a[i] !== value` or `deadline` (a `performance.now()` time); returns `a[i]`. */
function waitWhile(a: Int32Array, i: number, value: number, deadline: number): number {
  for (;;) {
    const current = Atomics.load(a, i);
    const left = deadline - performance.now();
    if (current !== value || left <= 0) return current;
    Atomics.wait(a, i, value, left);
  }
}

/** A pool of kernel workers running one script. */
export class ThreadPool {
  private readonly key: string;

  constructor(readonly script: URL) {
    this.key = `${script.href}#${PROTOCOL}`;
  }

  private get set(): WorkerSet {
    const sets = registry();
    let set = sets.get(this.key);
    if (set === undefined) {
      set = { slots: [], done: new Int32Array(new SharedArrayBuffer(4)), seq: 0, failed: null };
      sets.set(this.key, set);
    }
    return set;
  }

  /** Number of workers running. */
  get size(): number {
    return registry().get(this.key)?.slots.length ?? 0;
  }

  /** Why the workers could not be started, or null. */
  get failure(): string | null {
    return registry().get(this.key)?.failed ?? null;
  }

  /**
   * Makes at least `n` and at most `max` workers run and listen: replaces exited ones, ends those
   * beyond `max`, starts missing ones and waits for them to load.
   *
   * @returns false when workers are unavailable (no `worker_threads`, or one did not start: then
   *   threads stay off until `dispose`; a warning says why, once).
   */
  ensure(n: number, max = n): boolean {
    const set = this.set;
    for (let i = set.slots.length - 1; i >= 0; i--) {
      if (!set.slots[i].alive || i >= max) this.end(set.slots.splice(i, 1)[0]);
    }
    if (n === 0) return true;
    if (set.failed !== null) return false;
    const wt = nodeBuiltin('node:worker_threads');
    if (wt === null) return false;
    const started: WorkerSlot[] = [];
    try {
      while (set.slots.length < n) {
        const slot = this.start(wt, set);
        set.slots.push(slot);
        started.push(slot);
      }
    } catch (e) {
      return this.giveUp(set, `a kernel worker could not be started: ${(e as Error)?.message ?? String(e)}`);
    }
    const deadline = performance.now() + STARTUP_TIMEOUT_MS;
    for (const slot of started) {
      const status = waitWhile(slot.status, 0, 0, deadline);
      if (status === -1) return this.giveUp(set, `the kernel worker script ${this.script.href} speaks another protocol (a stale build? rebuild with node scripts/build.mjs)`);
      if (status !== 1) return this.giveUp(set, `a kernel worker did not start within ${STARTUP_TIMEOUT_MS} ms (${this.script.href})`);
    }
    return true;
  }

  private start(wt: NodeBuiltins['node:worker_threads'], set: WorkerSet): WorkerSlot {
    const { port1, port2 } = new wt.MessageChannel();
    const status = new Int32Array(new SharedArrayBuffer(8));
    const workerData: WorkerInit = { protocol: PROTOCOL, done: set.done.buffer as SharedArrayBuffer, status: status.buffer as SharedArrayBuffer, replies: port2 };
    // execArgv []: the worker is plain bundled JS; it needs none of the parent's loaders or flags.
    const worker = new wt.Worker(this.script, { workerData, transferList: [port2], execArgv: [] });
    const slot: WorkerSlot = { worker, replies: port1, status, alive: true };
    worker.on('error', () => (slot.alive = false)); // a listener, so that a worker's crash does not crash this process
    worker.on('exit', () => (slot.alive = false));
    worker.unref();
    port1.unref();
    return slot;
  }

  private end(slot: WorkerSlot): void {
    slot.alive = false;
    slot.replies.close();
    slot.worker.terminate().catch(() => undefined);
  }

  private giveUp(set: WorkerSet, reason: string): false {
    for (const slot of set.slots.splice(0)) this.end(slot);
    set.failed = reason;
    const proc = nodeBuiltin('node:process');
    const message = `tfdrr: ${reason}; the kernels run single-threaded (disposeThreadPool() retries)`;
    if (proc?.emitWarning) proc.emitWarning(message);
    else console.warn(message);
    return false;
  }

  /**
   * Posts `tasks[i]` to worker `i`, runs `local` (the calling thread's share), and returns once
   * every worker is done. `ensure(tasks.length)` must have returned true.
   *
   * @throws the error of `local`, else the first worker's error (in worker order) as an Error with
   *   its message; the pool stays usable.
   * @throws Error if a worker does not finish in time (the pool is then ended; the next call
   *   starts new workers).
   */
  run(label: string, tasks: WorkerTask[], local: () => void): void {
    const set = this.set;
    const n = tasks.length;
    if (set.slots.length < n) throw new Error(`tfdrr thread pool: ${n} tasks for ${set.slots.length} workers`);
    const seq = (set.seq = (set.seq + 1) | 0);
    Atomics.store(set.done, 0, 0);
    try {
      for (let i = 0; i < n; i++) set.slots[i].worker.postMessage({ ...tasks[i], seq });
    } catch (e) {
      this.dispose(); // tasks already posted would still write into the shared buffers
      throw e;
    }
    let localError: unknown = null;
    const t0 = performance.now();
    try {
      local();
    } catch (e) {
      localError = e;
    }
    const timeout = Math.max(MIN_TASK_TIMEOUT_MS, TASK_TIMEOUT_FACTOR * (performance.now() - t0));
    const deadline = performance.now() + timeout;
    for (let done = Atomics.load(set.done, 0); done < n; done = Atomics.load(set.done, 0)) {
      if (waitWhile(set.done, 0, done, deadline) === done) {
        this.dispose();
        throw new Error(`tfdrr thread pool: ${n - done} of ${n} kernel worker(s) did not finish ${label} within ${Math.round(timeout)} ms; the workers were ended (new ones start at the next call; setNumThreads(1) runs single-threaded)`);
      }
    }
    const failures = set.slots.slice(0, n).map((slot) => this.failureOf(slot, seq));
    if (localError !== null) throw localError;
    failures.forEach((failure, i) => {
      if (failure !== null) throw errorOf(failure, i + 1);
    });
  }

  /** The failure worker `slot` reported for call `seq`, or null (drains its reply port). */
  private failureOf(slot: WorkerSlot, seq: number): WorkerFailure | null {
    const wt = nodeBuiltin('node:worker_threads');
    let failure: WorkerFailure | null = null;
    const drain = () => {
      for (let m = wt?.receiveMessageOnPort(slot.replies); m !== undefined; m = wt?.receiveMessageOnPort(slot.replies)) {
        const f = m.message as WorkerFailure;
        if (f.seq === seq) failure = f;
      }
    };
    drain();
    if (failure === null && Atomics.load(slot.status, 1) === seq) {
      // The worker flagged a failure: its message was posted before it counted itself done.
      const deadline = performance.now() + 1000;
      while (failure === null && performance.now() < deadline) {
        Atomics.wait(slot.status, 0, 1, 1);
        drain();
      }
      failure ??= { seq, name: 'Error', message: 'tfdrr kernel worker failed (its error message was lost)' };
    }
    return failure;
  }

  /** Ends every worker of this pool and forgets why threads were off. */
  dispose(): void {
    const set = registry().get(this.key);
    if (set === undefined) return;
    registry().delete(this.key);
    for (const slot of set.slots.splice(0)) this.end(slot);
  }
}
