/**
 * Eigendecomposition of small batched symmetric matrices, `A = V diag(values) V^T`, by cyclic
 * Jacobi sweeps (see `jacobi.ts`), differentiable with `tf.grad`.
 *
 * Gradient (custom, not through the sweeps): with `F_ij = 1 / (values_j - values_i)` for
 * `i != j` and 0 on the diagonal,
 *
 *     dL/dA = sym( V (diag(dL/dvalues) + F o (V^T dL/dV)) V^T ),   sym(X) = (X + X^T) / 2.
 *
 * `1/Δ` is evaluated as `Δ / (Δ^2 + (1e-6 s)^2)`, `s = max |values|`, so repeated eigenvalues
 * give a finite gradient (exact for an eigenvector whose own eigenvalue is simple; an
 * eigenvector of a repeated eigenvalue is not a differentiable function of A).
 */
import * as tf from '@tensorflow/tfjs';
import { DEFAULT_SWEEPS, jacobiRotation, jacobiRounds } from './jacobi.js';
import { batchEye, transpose3 } from './small_matrix.js';

/** Eigenvalues ascending and the matching unit eigenvectors. */
export type SymmetricEigen = {
  /** `[B, n]`, ascending. */
  values: tf.Tensor2D;
  /** `[B, n, n]`; column `k` is the eigenvector of `values[:, k]`. */
  vectors: tf.Tensor3D;
};

/** Options of {@link symmetricEigen}. */
export interface SymmetricEigenOptions {
  /** Jacobi sweeps (each rotates every pair once). Default 6, enough for float32 up to n = 4. */
  sweeps?: number;
}

/** Sorts eigenpairs by ascending value; `vectors` columns follow. */
function sortAscending(values: tf.Tensor2D, vectors: tf.Tensor3D): SymmetricEigen {
  return tf.tidy(() => {
    const n = values.shape[1];
    const order = tf.topk(tf.neg(values), n).indices;
    const sorted = tf.gather(values, order, 1, 1) as tf.Tensor2D;
    const rows = tf.gather(transpose3(vectors), order, 1, 1) as tf.Tensor3D;
    return { values: sorted, vectors: transpose3(rows) };
  });
}

/** The Jacobi forward pass (not recorded for gradients). */
function jacobiEigen(a: tf.Tensor3D, sweeps: number): SymmetricEigen {
  return tf.tidy(() => {
    const [b, n] = a.shape;
    const rounds = jacobiRounds(n);
    let m = a;
    let v = batchEye(b, n);
    for (let sweep = 0; sweep < sweeps; sweep++) {
      for (const round of rounds) {
        const j = jacobiRotation(m, round);
        m = tf.matMul(tf.matMul(j, m, true, false), j);
        v = tf.matMul(v, j);
      }
    }
    const diagonal = tf.gather(m.reshape([b, n * n]), tf.tensor1d(Array.from({ length: n }, (_, i) => i * (n + 1)), 'int32'), 1) as tf.Tensor2D;
    return sortAscending(diagonal, v);
  });
}

/** `1 / (values_j - values_i)` off the diagonal, regularised as described above; `[B, n, n]`. */
export function inverseGaps(values: tf.Tensor2D, squared = false): tf.Tensor3D {
  return tf.tidy(() => {
    const [b, n] = values.shape;
    const v = squared ? tf.square(values) : values;
    const gaps = tf.sub(v.reshape([b, 1, n]), v.reshape([b, n, 1]));
    const scale = tf.maximum(tf.max(tf.abs(v), 1).reshape([b, 1, 1]), 1e-30);
    const d = tf.div(gaps, scale);
    return tf.div(tf.div(d, tf.add(tf.square(d), 1e-12)), scale) as tf.Tensor3D;
  });
}

/**
 * Eigenvalues (ascending) and eigenvectors of symmetric matrices `[B, n, n]` (small `n`, e.g. 3
 * or 4). The input is symmetrised as `(A + A^T)/2` first. Eigenvector signs are arbitrary.
 *
 * ```js
 * const { values, vectors } = tfdrr.symmetricEigen(tf.tensor3d([[[2, 1], [1, 2]]]));
 * values.print(); // [[1, 3]]
 * ```
 */
export function symmetricEigen(a: tf.Tensor3D, options: SymmetricEigenOptions = {}): SymmetricEigen {
  if (!(a instanceof tf.Tensor) || a.rank !== 3 || a.shape[1] !== a.shape[2] || a.shape[1] < 2) {
    throw new Error(`a: expected symmetric matrices of shape [B, n, n] with n >= 2, got ${a instanceof tf.Tensor ? `shape [${a.shape.join(', ')}]` : typeof a}`);
  }
  const sweeps = options.sweeps ?? DEFAULT_SWEEPS;
  if (!Number.isInteger(sweeps) || sweeps < 1) throw new Error(`sweeps: expected a positive integer, got ${String(options.sweeps)}`);
  const n = a.shape[1];
  const eigen = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [x, save] = args as [tf.Tensor, tf.GradSaveFunc];
    const sym = tf.mul(tf.add(x, transpose3(x as tf.Tensor3D)), 0.5) as tf.Tensor3D;
    const { values, vectors } = jacobiEigen(sym, sweeps);
    save([values, vectors]);
    return {
      value: tf.concat([values.reshape([-1, 1, n]), vectors], 1),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [vals, vecs] = saved as [tf.Tensor2D, tf.Tensor3D];
        const b = vals.shape[0];
        const dValues = tf.slice(dy, [0, 0, 0], [b, 1, n]).reshape([b, n]);
        const dVectors = tf.slice(dy, [0, 1, 0], [b, n, n]) as tf.Tensor3D;
        const inner = tf.add(tf.mul(inverseGaps(vals), tf.matMul(vecs, dVectors, true, false)), tf.mul(tf.eye(n).reshape([1, n, n]), dValues.reshape([b, 1, n])));
        const g = tf.matMul(tf.matMul(vecs, inner), vecs, false, true) as tf.Tensor3D;
        return tf.mul(tf.add(g, transpose3(g)), 0.5);
      },
    };
  });
  return tf.tidy(() => {
    const packed = eigen(tf.cast(a, 'float32'));
    const b = packed.shape[0];
    return {
      values: tf.slice(packed, [0, 0, 0], [b, 1, n]).reshape([b, n]) as tf.Tensor2D,
      vectors: tf.slice(packed, [0, 1, 0], [b, n, n]) as tf.Tensor3D,
    };
  });
}
