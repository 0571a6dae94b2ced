/**
 * DiffDRR's global sampling range (defined in `trilinear_range.ts`) as tensor ops that `tf.grad`
 * differentiates: float32 throughout, torch's gradient rules from `tf.maximum` / `tf.minimum`
 * (pairwise, so each tie goes to one axis) and an even share among the rays attaining `lo` / `hi`.
 * The oracle the fused `TrilinearRange` kernel equals to the bit, and the range on backends
 * without that kernel (webgpu). Inputs as `trilinearRange`'s, already validated.
 */
import * as tf from '@tensorflow/tfjs';

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
 * `(lo, hi)` as tensor ops, float32 `[2]`; with `alphamin` / `alphamax`, that end is the given
 * number (and its rays are not computed on the tape).
 */
export function trilinearRangeReference(shape: readonly [number, number, number], source: tf.Tensor2D, target: tf.Tensor2D, voxelShift: number, alphamin?: number, alphamax?: number): tf.Tensor1D {
  return tf.tidy(() => {
    const { alphaMin, alphaMax } = rayAlphaBounds(shape, source, target, voxelShift);
    const lo = alphamin !== undefined ? tf.scalar(alphamin) : evenMin(alphaMin);
    const hi = alphamax !== undefined ? tf.scalar(alphamax) : evenMax(alphaMax);
    return tf.stack([lo, hi]) as tf.Tensor1D;
  });
}
