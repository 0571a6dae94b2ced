/**
 * Runs a fused kernel call (what the glue computes: arrays read in place, outputs to fill) on as
 * many threads as pay for themselves, else in place on the calling thread.
 *
 * A threaded call: the volume (and the mask) are shared copies made once per tensor
 * (`SharedVolumeCache`); the rays and `dy` are copied into reused shared buffers; the rays are
 * split in contiguous ranges (`splitRays`), thread 0 (the caller) taking the first; every thread
 * writes its rays' rows of the image (and its ray gradients) / d target into shared outputs, and its partial sums (d source,
 * d range, d density: a full volume per thread, reused between calls) into its own buffers. The
 * caller then copies the rows into the kernel's outputs and adds the partial sums in thread order,
 * in double precision, rounding once to the output's float32 as a single-threaded call does.
 */
import type { FloatArray } from '../shared/siddon_impl.js';
import type { TrilinearSampling } from '../shared/trilinear_impl.js';
import type { RayRange } from '../shared/volume_rays.js';
import { disposeSimdKernels } from '../simd/simd_kernels.js';
import { runRayKernel, viewOf, viewsOf, type RayKernelArrays, type RayKernelSpec, type SharedArrayRef, type SharedArrayRefs, type WorkerTask } from './kernel_tasks.js';
import { getNumThreads } from './num_threads.js';
import { sourcesOf, splitRays } from './ray_split.js';
import { SharedScratch, SharedVolumeCache, volumeKeyOf } from './shared_buffers.js';
import { ThreadPool } from './thread_pool.js';
import { resetWorkerScriptUrl, workerScriptUrl } from './worker_location.js';

/** A kernel call: what to compute, its arrays (inputs read in place, outputs to fill), and the tensor data ids of its volumes. */
export interface RayKernelCall {
  spec: RayKernelSpec;
  arrays: RayKernelArrays;
  /** The `dataId` of the density tensor and of the mask tensor (null with one channel): the keys of their shared copies. */
  volumeKeys: { density: object; mask: object | null };
}

/**
 * Work per thread (voxel steps or samples, about 2.3 ns each single-threaded) below which a call
 * uses fewer threads: about 0.5 ms of work, a few times the fixed cost of a threaded call (posting
 * the tasks, waking the workers, copying the rays and outputs: 0.1 to 0.2 ms, measured on a
 * 2-core VM where a Siddon call of 960k steps takes 2.3 ms on one thread).
 * A density gradient also counts 2 units per voxel per thread (zeroing and adding its volume).
 */
export const MIN_WORK_PER_THREAD = 200_000;

/** Estimated work of a call: rays times voxel steps (Siddon, at most X + Y + Z) or samples (Trilinear) per ray. */
export function workOf(spec: RayKernelSpec): number {
  const [x, y, z] = spec.shape;
  if (spec.kernel.startsWith('siddon')) return spec.nRays * (x + y + z);
  const sampling = spec.params as TrilinearSampling;
  const perSample = (sampling.channels ?? 1) > 1 || sampling.reduce === 'max' ? 3 : 1;
  return spec.nRays * sampling.nPoints * perSample;
}

let forced = false;

/**
 * With `on`, every call uses `getNumThreads()` threads (one per ray at most), however little work
 * it has: for tests, which check small cases. Returns the previous setting.
 */
export function forceThreads(on: boolean): boolean {
  const previous = forced;
  forced = on;
  return previous;
}

/**
 * How many threads a call uses: `getNumThreads()` (at most one per ray), fewer when the work per
 * thread would fall below `MIN_WORK_PER_THREAD` (plus the volume, for a density gradient), at
 * least 1.
 */
export function threadsFor(spec: RayKernelSpec): number {
  const max = Math.min(getNumThreads(), spec.nRays);
  if (max <= 1 || forced) return max;
  const work = workOf(spec);
  const volume = spec.shape[0] * spec.shape[1] * spec.shape[2];
  const perThread = MIN_WORK_PER_THREAD + (spec.kernel.endsWith('GradDensity') ? 2 * volume : 0);
  return Math.max(1, Math.min(max, Math.floor(work / perThread)));
}

const volumes = new SharedVolumeCache();
const scratch = new SharedScratch();
let pool: ThreadPool | null = null;

/** The pool, or null when there is no worker script (or no worker_threads). */
function poolOf(): ThreadPool | null {
  if (pool !== null) return pool;
  const script = workerScriptUrl();
  return script === null ? null : (pool = new ThreadPool(script));
}

/** Runs `call`: across threads when it pays and workers are available, else on this thread, in place. */
export function runRayKernelCall(rayCall: RayKernelCall): void {
  // the density's key goes with the call, for the kernels' own copies of it (SimdKernels)
  const call = { ...rayCall, spec: { ...rayCall.spec, densityKey: volumeKeyOf(rayCall.volumeKeys.density) } };
  const threads = threadsFor(call.spec);
  const maxWorkers = getNumThreads() - 1;
  if (pool !== null && pool.size > maxWorkers) pool.ensure(0, maxWorkers); // setNumThreads lowered: end the extra workers
  const workers = threads > 1 ? poolOf() : null;
  if (workers === null || !workers.ensure(threads - 1, maxWorkers)) {
    runRayKernel(call.spec, call.arrays, { first: 0, end: call.spec.nRays });
    return;
  }
  runThreaded(call, workers, threads);
}

/** The element type of an output array. */
function typeOf(a: FloatArray): SharedArrayRef['type'] {
  return a instanceof Float64Array ? 'float64' : 'float32';
}

/** Thread `t`'s part of a per-thread buffer of `n` elements each. */
function part(ref: SharedArrayRef | null, t: number, n: number): SharedArrayRef | null {
  return ref === null ? null : { ...ref, offset: t * n, length: n };
}

function runThreaded(call: RayKernelCall, workers: ThreadPool, threads: number): void {
  const { spec, arrays, volumeKeys } = call;
  const ranges = splitRays(spec.nRays, spec.raysPerSource, threads).filter((r) => r.end > r.first);
  const n = ranges.length;
  const nSource = arrays.dSource?.length ?? 0;
  const nVolume = arrays.dDensity?.length ?? 0;
  const shared = {
    density: volumes.get(volumeKeys.density, arrays.density),
    mask: arrays.mask === null ? null : volumes.get(volumeKeys.mask ?? arrays.mask, arrays.mask),
    source: scratch.copy('source', arrays.source),
    target: scratch.copy('target', arrays.target),
    dy: arrays.dy === null ? null : scratch.copy('dy', arrays.dy),
    out: arrays.out === null ? null : scratch.array('out', typeOf(arrays.out), arrays.out.length),
    rayGradients: arrays.rayGradients === null ? null : scratch.array('rayGradients', typeOf(arrays.rayGradients), arrays.rayGradients.length),
    dTarget: arrays.dTarget === null ? null : scratch.array('dTarget', typeOf(arrays.dTarget), arrays.dTarget.length),
    dSource: arrays.dSource === null ? null : scratch.array('dSource', 'float64', n * nSource),
    dRange: arrays.dRange === null ? null : scratch.array('dRange', 'float64', n * 2),
    dDensity: arrays.dDensity === null ? null : scratch.array('dDensity', 'float64', n * nVolume),
  };
  const refsOf = (t: number): SharedArrayRefs => ({
    ...shared,
    dSource: part(shared.dSource, t, nSource),
    dRange: part(shared.dRange, t, 2),
    dDensity: part(shared.dDensity, t, nVolume),
  });
  const tasks: WorkerTask[] = ranges.slice(1).map((range, i) => ({ seq: 0, spec, refs: refsOf(i + 1), range }));
  workers.run(spec.kernel, tasks, () => runRayKernel(spec, viewsOf(refsOf(0)), ranges[0]));

  if (arrays.out !== null && shared.out !== null) arrays.out.set(viewOf(shared.out));
  if (arrays.rayGradients !== null && shared.rayGradients !== null) arrays.rayGradients.set(viewOf(shared.rayGradients));
  if (arrays.dTarget !== null && shared.dTarget !== null) arrays.dTarget.set(viewOf(shared.dTarget));
  if (arrays.dSource !== null && shared.dSource !== null) addSources(arrays.dSource, viewOf(shared.dSource) as Float64Array, ranges, spec.raysPerSource);
  if (arrays.dRange !== null && shared.dRange !== null) addParts(arrays.dRange, viewOf(shared.dRange) as Float64Array, n);
  if (arrays.dDensity !== null && shared.dDensity !== null) addParts(arrays.dDensity, viewOf(shared.dDensity) as Float64Array, n);
}

/**
 * `out[s] = ` the sum, in thread order, of the partial sums of source `s` of the threads whose rays
 * include some of source `s` (one thread: its sum exactly, as single-threaded).
 */
function addSources(out: FloatArray, parts: Float64Array, ranges: RayRange[], raysPerSource: number): void {
  const n = out.length;
  const sources = ranges.map((r) => sourcesOf(r, raysPerSource));
  for (let s = 0; 3 * s < n; s++) {
    let x = 0;
    let y = 0;
    let z = 0;
    let first = true;
    for (let t = 0; t < ranges.length; t++) {
      if (s < sources[t].first || s >= sources[t].end) continue;
      const o = t * n + 3 * s;
      if (first) {
        x = parts[o];
        y = parts[o + 1];
        z = parts[o + 2];
        first = false;
      } else {
        x += parts[o];
        y += parts[o + 1];
        z += parts[o + 2];
      }
    }
    out[3 * s] = x;
    out[3 * s + 1] = y;
    out[3 * s + 2] = z;
  }
}

/** `out[i] = parts[0][i] + parts[1][i] + ...` (the `n` threads' partial sums, each `out.length` long), added in thread order. */
function addParts(out: FloatArray, parts: Float64Array, n: number): void {
  const m = out.length;
  if (n === 2) {
    for (let i = 0; i < m; i++) out[i] = parts[i] + parts[m + i];
    return;
  }
  // sum into thread 0's part (scratch: rewritten by the next call), one thread at a time
  const sum = parts.subarray(0, m);
  for (let t = 1; t < n; t++) {
    const p = parts.subarray(t * m, (t + 1) * m);
    for (let i = 0; i < m; i++) sum[i] += p[i];
  }
  out.set(sum);
}

/** What the pool holds (for tests): workers running, volume copies, scratch buffers and their bytes. */
export function threadPoolStats(): { workers: number; volumes: number; scratchBuffers: number; scratchBytes: number } {
  return { workers: pool?.size ?? 0, volumes: volumes.size, scratchBuffers: scratch.size, scratchBytes: scratch.bytes };
}

/**
 * Ends the kernel workers and frees the shared volume copies and buffers, and this thread's copy
 * in the SIMD kernels' memory (the next threaded call starts new workers, looking for the worker
 * script again). Also lifts a fallback to one thread after workers failed to start.
 */
export function disposeThreadPool(): void {
  disposeSimdKernels();
  poolOf()?.dispose();
  pool = null;
  volumes.clear();
  scratch.clear();
  resetWorkerScriptUrl();
}
