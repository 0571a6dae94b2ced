/**
 * Which typed-array implementation runs a fused kernel's share of rays: one function, run by the
 * calling thread on its own share and by each worker on the others, so that every thread computes
 * its rays with exactly the code (and the arithmetic) of a single-threaded call.
 */
import type { SiddonAttrs } from '../kernel_names.js';
import { siddonGradDensityImpl, siddonGradRaysImpl } from '../shared/siddon_grad_impl.js';
import { siddonForwardImpl, type FloatArray } from '../shared/siddon_impl.js';
import type { VolumeShape } from '../shared/siddon_walker.js';
import { trilinearGradDensityImpl, trilinearGradRaysImpl } from '../shared/trilinear_grad_impl.js';
import { trilinearForwardImpl, type TrilinearSampling } from '../shared/trilinear_impl.js';
import type { RayRange } from '../shared/volume_rays.js';

/** The six fused ray kernels. */
export type RayKernelName = 'siddonForward' | 'siddonGradRays' | 'siddonGradDensity' | 'trilinearForward' | 'trilinearGradRays' | 'trilinearGradDensity';

/** What a call computes, the same for every thread (plain data, posted to workers as is). */
export interface RayKernelSpec {
  kernel: RayKernelName;
  /** Siddon: its attributes; Trilinear: its sampling (with the range `lo`, `hi` already read). */
  params: SiddonAttrs | TrilinearSampling;
  shape: VolumeShape;
  nRays: number;
  raysPerSource: number;
  /** The density's `VolumeRays.densityKey`, if it has one. */
  densityKey?: number;
}

/**
 * The arrays of a call as one thread sees them. Inputs: `density`, `mask` (more than one channel),
 * `source`, `target`, `dy` (gradients). Outputs by kernel: forward `out` `[R, C]` (and
 * `rayGradients`, Siddon's `[R, 6]` or Trilinear's `[R, 8]`, when asked for); ray gradients
 * `dSource` `[S, 3]`, `dTarget` `[R, 3]` and (Trilinear) `dRange` `[2]`; density gradient
 * `dDensity` `[X, Y, Z]`. A thread writes the rows of its rays in `out`, `rayGradients` and `dTarget`, and sums over
 * its rays only in `dSource`, `dRange` and `dDensity` (a thread's own buffers: its partial sums).
 */
export interface RayKernelArrays {
  density: FloatArray;
  mask: FloatArray | null;
  source: FloatArray;
  target: FloatArray;
  dy: FloatArray | null;
  out: FloatArray | null;
  /** Forward with `rayGradients`: per ray d value / d (source, target) (`[R, 6]`), and Trilinear's / d range (`[R, 8]`). */
  rayGradients: FloatArray | null;
  dSource: FloatArray | null;
  dTarget: FloatArray | null;
  dRange: FloatArray | null;
  dDensity: FloatArray | null;
}

/** The names of `RayKernelArrays`. */
export type RayKernelArrayName = keyof RayKernelArrays;

/**
 * `a`, which the kernel needs.
 * @throws Error naming the array if it is missing.
 */
function required(a: FloatArray | null, name: RayKernelArrayName, kernel: RayKernelName): FloatArray {
  if (a === null) throw new Error(`${kernel}: missing array ${name}`);
  return a;
}

/** Runs `spec.kernel` on the rays of `range` (see `RayKernelArrays` for what it writes). */
export function runRayKernel(spec: RayKernelSpec, arrays: RayKernelArrays, range: RayRange): void {
  const { kernel, shape, nRays, raysPerSource } = spec;
  const rays = { density: arrays.density, shape, source: arrays.source, target: arrays.target, nRays, raysPerSource, mask: arrays.mask, densityKey: spec.densityKey };
  const need = (name: RayKernelArrayName) => required(arrays[name] as FloatArray | null, name, kernel);
  switch (kernel) {
    case 'siddonForward':
      siddonForwardImpl(rays, spec.params as SiddonAttrs, need('out'), range, (spec.params as SiddonAttrs).rayGradients ? need('rayGradients') : null);
      return;
    case 'siddonGradRays':
      siddonGradRaysImpl(rays, spec.params as SiddonAttrs, need('dy'), need('dSource'), need('dTarget'), range);
      return;
    case 'siddonGradDensity':
      siddonGradDensityImpl(rays, spec.params as SiddonAttrs, need('dy'), need('dDensity'), range);
      return;
    case 'trilinearForward':
      trilinearForwardImpl(rays, spec.params as TrilinearSampling, need('out'), range, (spec.params as TrilinearSampling).rayGradients ? need('rayGradients') : null);
      return;
    case 'trilinearGradRays':
      trilinearGradRaysImpl(rays, spec.params as TrilinearSampling, need('dy'), { dSource: need('dSource'), dTarget: need('dTarget'), dRange: need('dRange') }, range);
      return;
    case 'trilinearGradDensity':
      trilinearGradDensityImpl(rays, spec.params as TrilinearSampling, need('dy'), need('dDensity'), range);
      return;
    default:
      throw new Error(`unknown ray kernel ${String(kernel)}`);
  }
}

/** A float array in shared memory, as posted to a worker: `length` elements from element `offset`. */
export interface SharedArrayRef {
  buffer: SharedArrayBuffer;
  type: 'float32' | 'float64';
  offset: number;
  length: number;
}

/** The typed array `ref` describes (a view, no copy). */
export function viewOf(ref: SharedArrayRef): FloatArray {
  return ref.type === 'float64' ? new Float64Array(ref.buffer, 8 * ref.offset, ref.length) : new Float32Array(ref.buffer, 4 * ref.offset, ref.length);
}

/** A call's arrays in shared memory, by name (null where the kernel has none). */
export type SharedArrayRefs = { [K in RayKernelArrayName]: SharedArrayRef | null };

/**
 * The views of `refs`.
 * @throws Error if an input every kernel reads is missing.
 */
export function viewsOf(refs: SharedArrayRefs): RayKernelArrays {
  const view = (ref: SharedArrayRef | null) => (ref === null ? null : viewOf(ref));
  const input = (name: 'density' | 'source' | 'target') => {
    const ref = refs[name];
    if (ref === null) throw new Error(`ray kernel task: missing shared array ${name}`);
    return viewOf(ref);
  };
  return {
    density: input('density'),
    mask: view(refs.mask),
    source: input('source'),
    target: input('target'),
    dy: view(refs.dy),
    out: view(refs.out),
    rayGradients: view(refs.rayGradients),
    dSource: view(refs.dSource),
    dTarget: view(refs.dTarget),
    dRange: view(refs.dRange),
    dDensity: view(refs.dDensity),
  };
}

/** One worker's share of a call. */
export interface WorkerTask {
  /** The call's number (the reply carries it back). */
  seq: number;
  spec: RayKernelSpec;
  refs: SharedArrayRefs;
  range: RayRange;
}

/** What a worker sends back (on its reply port) when its share throws. */
export interface WorkerFailure {
  seq: number;
  name: string;
  message: string;
  stack?: string;
}
