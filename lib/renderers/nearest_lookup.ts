/**
 * Nearest-voxel lookup with zero padding, differentiable in the volume. The voxel indices are
 * integer work done inside a `customGrad` forward, so they never reach the tape; the position
 * gets a zero gradient (a nearest lookup is piecewise constant in the position).
 */
import * as tf from '@tensorflow/tfjs';

/**
 * Values of `density` `[X, Y, Z]` at `points` `[..., 3]` (continuous index coordinates): voxel
 * `(i, j, k)` covers `[i - voxelShift, i + 1 - voxelShift)` per axis; points outside read 0.
 * d/d density scatters the upstream gradient onto the voxels read.
 */
export function nearestLookup(density: tf.Tensor3D, points: tf.Tensor, voxelShift: number): tf.Tensor {
  const [nx, ny, nz] = density.shape;
  const outShape = points.shape.slice(0, -1);
  const lookup = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [vol, pts] = args as [tf.Tensor, tf.Tensor];
    const save = args[2] as tf.GradSaveFunc;
    const int = (n: number) => tf.scalar(n, 'int32');
    const idx = tf.cast(tf.floor(tf.add(pts.reshape([-1, 3]), voxelShift)), 'int32');
    const [ix, iy, iz] = tf.unstack(idx, 1);
    const inside = tf.logicalAnd(
      tf.logicalAnd(tf.logicalAnd(tf.greaterEqual(ix, int(0)), tf.less(ix, int(nx))), tf.logicalAnd(tf.greaterEqual(iy, int(0)), tf.less(iy, int(ny)))),
      tf.logicalAnd(tf.greaterEqual(iz, int(0)), tf.less(iz, int(nz))),
    );
    const flat = tf.where(inside, tf.add(tf.mul(tf.add(tf.mul(ix, int(ny)), iy), int(nz)), iz), tf.zerosLike(ix));
    const weight = tf.cast(inside, 'float32');
    save([flat, weight]);
    const values = tf.mul(tf.gather(vol.reshape([-1]), flat), weight).reshape(outShape);
    return {
      value: values,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [savedFlat, savedWeight] = saved;
        const dVol = tf.unsortedSegmentSum(tf.mul(dy.reshape([-1]), savedWeight), savedFlat as tf.Tensor1D, nx * ny * nz).reshape([nx, ny, nz]);
        return [dVol, tf.zerosLike(pts)];
      },
    };
  });
  return lookup(density, points);
}

/**
 * One-hot `[..., channels]` of the integer labels of `mask` at `points` (nearest voxel, label 0
 * outside), with no gradient: the integer work stays inside a `customGrad` forward.
 */
export function nearestLabelsOneHot(mask: tf.Tensor3D, points: tf.Tensor, voxelShift: number, channels: number): tf.Tensor {
  const oneHot = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [m, pts] = args as [tf.Tensor3D, tf.Tensor];
    const labels = tf.cast(nearestLookup(m, pts, voxelShift), 'int32');
    return {
      value: tf.cast(tf.oneHot(labels, channels), 'float32'),
      gradFunc: () => [tf.zerosLike(m), tf.zerosLike(pts)],
    };
  });
  return oneHot(mask, points);
}
