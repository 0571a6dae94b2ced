/**
 * How many threads the fused kernels use: `setNumThreads(n)` if called, else the environment
 * variable `TFDRR_NUM_THREADS`, else the machine's available parallelism (`os.availableParallelism()`).
 * One thread means no worker is started. Where Node's `worker_threads` are unavailable (a browser
 * bundle) the kernels run on the calling thread whatever this says.
 */
import { nodeBuiltin } from './node_builtins.js';

/** The environment variable that sets the default thread count. */
export const NUM_THREADS_ENV = 'TFDRR_NUM_THREADS';

/** The most threads accepted (a guard against typos such as 1000). */
export const MAX_THREADS = 256;

let configured: number | null = null;

/**
 * `n` as a thread count.
 *
 * @throws Error naming `what` unless `n` is an integer in [1, MAX_THREADS].
 */
function checkedCount(n: unknown, what: string): number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_THREADS) {
    throw new Error(`${what}: expected a positive integer number of threads (at most ${MAX_THREADS}), got ${typeof n === 'string' ? JSON.stringify(n) : String(n)}`);
  }
  return n;
}

/** The thread count the environment gives: `TFDRR_NUM_THREADS`, else the available parallelism, else 1. */
function defaultNumThreads(): number {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[NUM_THREADS_ENV];
  if (env !== undefined && env.trim() !== '') {
    const n = /^\s*\d+\s*$/.test(env) ? Number(env) : NaN;
    return checkedCount(Number.isNaN(n) ? env : n, `${NUM_THREADS_ENV}=${JSON.stringify(env)}`);
  }
  const os = nodeBuiltin('node:os');
  if (os === null) return 1;
  const n = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.min(MAX_THREADS, Math.max(1, n | 0));
}

/**
 * The number of threads the fused Siddon and Trilinear kernels split their rays across (the calling
 * thread included).
 *
 * @throws Error if `TFDRR_NUM_THREADS` is set to something other than a positive integer (and
 *   `setNumThreads` was not called).
 */
export function getNumThreads(): number {
  return configured ?? defaultNumThreads();
}

/**
 * Sets the number of threads the fused kernels use, the calling thread included: 1 runs every
 * kernel on the calling thread and starts no worker. Takes effect at the next kernel call (extra
 * workers are then ended, missing ones started).
 *
 * @throws Error unless `n` is an integer in [1, 256].
 */
export function setNumThreads(n: number): void {
  configured = checkedCount(n, 'setNumThreads');
}

/** Forgets `setNumThreads` (back to the environment's default); for tests. */
export function resetNumThreads(): void {
  configured = null;
}
