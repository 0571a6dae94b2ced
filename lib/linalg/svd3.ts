/**
 * Singular value decomposition of batched 3x3 matrices, `M = U diag(s) V^T`, by one-sided
 * Jacobi sweeps (rotations that orthogonalise the columns of `M V`, see `jacobi.ts`),
 * differentiable with `tf.grad`.
 *
 * `s` is descending; `U` and `V` are orthogonal. `u_k = (M v_k) / s_k` for k = 0, 1 and
 * `u_2 = ±(u_0 x u_1)` with the sign of `(M v_2) · (u_0 x u_1)` (+ when that is 0), so `U` is
 * exactly orthonormal even when `M` has rank 2. Rank < 2 leaves `U` undetermined (NaN).
 *
 * Gradient (Townsend 2016, square full-rank case), with `F_ij = 1 / (s_j^2 - s_i^2)` (i != j,
 * regularised like `symmetric_eigen.ts` so repeated singular values stay finite):
 *
 *     dL/dM = U [ (F o (U^T Ū - Ū^T U)) S + diag(s̄) + S (F o (V^T V̄ - V̄^T V)) ] V^T.
 */
import * as tf from '@tensorflow/tfjs';
import { DEFAULT_SWEEPS, jacobiRotation, jacobiRounds } from './jacobi.js';
import { batchEye, cross, dot, transpose3 } from './small_matrix.js';
import { inverseGaps } from './symmetric_eigen.js';

/** `M = U diag(s) V^T`. */
export interface Svd3 {
  /** `[B, 3, 3]`, orthogonal. */
  u: tf.Tensor3D;
  /** `[B, 3]`, descending, >= 0. */
  s: tf.Tensor2D;
  /** `[B, 3, 3]`, orthogonal. */
  v: tf.Tensor3D;
}

/** Options of {@link svd3}. */
export interface Svd3Options {
  /** Jacobi sweeps. Default 6. */
  sweeps?: number;
}

/** The one-sided Jacobi forward pass (not recorded for gradients). */
export function jacobiSvd3(m: tf.Tensor3D, sweeps = DEFAULT_SWEEPS): Svd3 {
  return tf.tidy(() => {
    const b = m.shape[0];
    const rounds = jacobiRounds(3);
    let w = m;
    let v = batchEye(b, 3);
    for (let sweep = 0; sweep < sweeps; sweep++) {
      for (const round of rounds) {
        const j = jacobiRotation(tf.matMul(w, w, true, false), round);
        w = tf.matMul(w, j);
        v = tf.matMul(v, j);
      }
    }
    const norms = tf.sqrt(tf.sum(tf.square(w), 1)); // [B, 3] column norms
    const order = tf.topk(norms, 3).indices;
    const s = tf.gather(norms, order, 1, 1) as tf.Tensor2D;
    const wCols = tf.gather(transpose3(w), order, 1, 1); // rows = columns of W, sorted
    const vCols = tf.gather(transpose3(v), order, 1, 1);
    const [w0, w1, w2] = tf.unstack(wCols, 1);
    const [s0, s1] = tf.unstack(s, 1).map((x) => x.reshape([b, 1]));
    const u0 = tf.div(w0, s0);
    const u1 = tf.div(w1, s1);
    const u2Dir = cross(u0, u1);
    const sign = tf.where(tf.less(dot(w2, u2Dir, true), 0), tf.fill([b, 1], -1), tf.ones([b, 1]));
    const u = transpose3(tf.stack([u0, u1, tf.mul(sign, u2Dir)], 1) as tf.Tensor3D);
    return { u, s, v: transpose3(vCols as tf.Tensor3D) };
  });
}

/**
 * SVD of `[B, 3, 3]` matrices.
 *
 * ```js
 * const { u, s, v } = tfdrr.svd3(tf.tensor3d([[[3, 0, 0], [0, 1, 0], [0, 0, 2]]]));
 * s.print(); // [[3, 2, 1]]
 * ```
 */
export function svd3(m: tf.Tensor3D, options: Svd3Options = {}): Svd3 {
  if (!(m instanceof tf.Tensor) || m.rank !== 3 || m.shape[1] !== 3 || m.shape[2] !== 3) {
    throw new Error(`m: expected matrices of shape [B, 3, 3], got ${m instanceof tf.Tensor ? `shape [${m.shape.join(', ')}]` : typeof m}`);
  }
  const sweeps = options.sweeps ?? DEFAULT_SWEEPS;
  if (!Number.isInteger(sweeps) || sweeps < 1) throw new Error(`sweeps: expected a positive integer, got ${String(options.sweeps)}`);
  const decompose = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [x, save] = args as [tf.Tensor, tf.GradSaveFunc];
    const { u, s, v } = jacobiSvd3(x as tf.Tensor3D, sweeps);
    save([u, s, v]);
    return {
      value: tf.concat([u, s.reshape([-1, 1, 3]), v], 1),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [uu, ss, vv] = saved as [tf.Tensor3D, tf.Tensor2D, tf.Tensor3D];
        const b = ss.shape[0];
        const dU = tf.slice(dy, [0, 0, 0], [b, 3, 3]) as tf.Tensor3D;
        const dS = tf.slice(dy, [0, 3, 0], [b, 1, 3]).reshape([b, 1, 3]);
        const dV = tf.slice(dy, [0, 4, 0], [b, 3, 3]) as tf.Tensor3D;
        const f = inverseGaps(ss, true);
        const sRow = ss.reshape([b, 1, 3]); // X S scales column j by s_j
        const sCol = ss.reshape([b, 3, 1]); // S X scales row i by s_i
        const skewU = tf.sub(tf.matMul(uu, dU, true, false), tf.matMul(dU, uu, true, false));
        const skewV = tf.sub(tf.matMul(vv, dV, true, false), tf.matMul(dV, vv, true, false));
        const inner = tf.add(tf.add(tf.mul(tf.mul(f, skewU), sRow), tf.mul(tf.eye(3).reshape([1, 3, 3]), dS)), tf.mul(sCol, tf.mul(f, skewV)));
        return tf.matMul(tf.matMul(uu, inner), vv, false, true);
      },
    };
  });
  return tf.tidy(() => {
    const packed = decompose(tf.cast(m, 'float32'));
    const b = packed.shape[0];
    return {
      u: tf.slice(packed, [0, 0, 0], [b, 3, 3]) as tf.Tensor3D,
      s: tf.slice(packed, [0, 3, 0], [b, 1, 3]).reshape([b, 3]) as tf.Tensor2D,
      v: tf.slice(packed, [0, 4, 0], [b, 3, 3]) as tf.Tensor3D,
    };
  });
}
