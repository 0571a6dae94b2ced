/**
 * The small batched eigensolver and 3x3 SVD (Jacobi sweeps as tensor ops): decompositions to
 * float32 accuracy, and their custom gradients against central finite differences of a
 * double-precision Jacobi, including repeated eigenvalues / singular values (finite gradients).
 */
import * as tf from '@tensorflow/tfjs';
import { symmetricEigen } from '../../lib/linalg/symmetric_eigen.js';
import { svd3 } from '../../lib/linalg/svd3.js';
import { cross, finiteDifferences, jacobiEigen, transpose } from '../helpers/double_rotations.js';
import { seededRandom, useCpuBackend } from '../helpers/tf_setup.js';

beforeAll(useCpuBackend);

const random = seededRandom(11);
const symmetric = (n: number) => {
  const m = Array.from({ length: n }, () => Array.from({ length: n }, () => random(-1, 1)));
  return m.map((row, i) => row.map((_, j) => m[i][j] + m[j][i]));
};
const maxAbs = (t: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(t)).dataSync()[0]);

describe('symmetricEigen', () => {
  test.each([3, 4])('n = %i: A V = V diag(values), V orthonormal, values ascending (200 random)', (n) => {
    const a = tf.tensor3d(Array.from({ length: 200 }, () => symmetric(n)));
    const { values, vectors } = symmetricEigen(a);
    const residual = tf.sub(tf.matMul(a, vectors), tf.mul(vectors, values.expandDims(1)));
    expect(maxAbs(residual)).toBeLessThan(5e-6);
    expect(maxAbs(tf.sub(tf.matMul(vectors, vectors, true, false), tf.eye(n)))).toBeLessThan(2e-6);
    const v = values.arraySync();
    v.forEach((row) => row.slice(1).forEach((x, i) => expect(x).toBeGreaterThanOrEqual(row[i])));
    tf.dispose([a, values, vectors, residual]);
  });

  test('gradients of eigenvalues and sign-invariant eigenvector products equal finite differences', () => {
    // L = sum_k c_k lambda_k + sum_k <W_k, v_k v_k^T>, invariant to eigenvector signs
    const n = 4;
    const a0 = symmetric(n);
    const c = [0.3, -1.2, 0.7, 2];
    const w = Array.from({ length: n }, () => Array.from({ length: n * n }, () => random(-1, 1)));
    const lossDouble = (flat: number[]) => {
      const m = Array.from({ length: n }, (_, i) => flat.slice(n * i, n * i + n));
      const sym = m.map((row, i) => row.map((_, j) => (m[i][j] + m[j][i]) / 2));
      const { values, vectors } = jacobiEigen(sym);
      let l = 0;
      for (let k = 0; k < n; k++) {
        l += c[k] * values[k];
        for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) l += w[k][i * n + j] * vectors[i][k] * vectors[j][k];
      }
      return l;
    };
    const fd = finiteDifferences(lossDouble, a0.flat());
    const g = tf.tidy(() =>
      tf.grad((x: tf.Tensor) => {
        const { values, vectors } = symmetricEigen(x as tf.Tensor3D);
        const outer = tf.mul(vectors.reshape([1, n, 1, n]), vectors.reshape([1, 1, n, n])); // [1, i, j, k]
        return tf.add(tf.sum(tf.mul(values, tf.tensor2d([c]))), tf.sum(tf.mul(tf.transpose(outer, [0, 3, 1, 2]).reshape([1, n, n * n]), tf.tensor3d([w]))));
      })(tf.tensor3d([a0])).dataSync(),
    );
    const scale = Math.max(...fd.map(Math.abs));
    fd.forEach((d, i) => expect(Math.abs(g[i] - d)).toBeLessThan(1e-4 * scale));
  });

  test('repeated eigenvalues: the gradient is finite, and exact for the simple eigenvector', () => {
    // A = diag(-1, 0, 0, 0): eigenvalue 0 is triple; the smallest eigenvector (e0) is simple
    const a0 = [[-1, 0.01, 0, 0], [0.01, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]];
    const w = [0.5, -0.25, 0.75, 1];
    const g = tf.tidy(() =>
      tf.grad((x: tf.Tensor) => {
        const v0 = tf.slice(symmetricEigen(x as tf.Tensor3D).vectors, [0, 0, 0], [1, 4, 1]).reshape([4]);
        return tf.sum(tf.mul(tf.square(v0), w)); // sign-invariant
      })(tf.tensor3d([a0])).dataSync(),
    );
    g.forEach((x) => expect(Number.isFinite(x)).toBe(true));
    const fd = finiteDifferences((flat) => {
      const m = [0, 1, 2, 3].map((i) => flat.slice(4 * i, 4 * i + 4));
      const sym = m.map((row, i) => row.map((_, j) => (m[i][j] + m[j][i]) / 2));
      const v0 = jacobiEigen(sym).vectors.map((row) => row[0]);
      return v0.reduce((s, x, i) => s + w[i] * x * x, 0);
    }, a0.flat());
    const scale = Math.max(...fd.map(Math.abs));
    fd.forEach((d, i) => expect(Math.abs(g[i] - d)).toBeLessThan(1e-3 * scale));
  });
});

describe('svd3', () => {
  test('M = U diag(s) V^T with orthonormal U, V and descending s >= 0 (500 random, rank-2 and reflections included)', () => {
    const mats = Array.from({ length: 500 }, (_, k) => {
      const m = Array.from({ length: 3 }, () => Array.from({ length: 3 }, () => random(-2, 2)));
      if (k % 10 === 0) m[2] = m[0].map((v, i) => 0.5 * v - 2 * m[1][i]); // rank 2
      return m;
    });
    const m = tf.tensor3d(mats);
    const { u, s, v } = svd3(m);
    const rebuilt = tf.matMul(tf.mul(u, s.expandDims(1)), v, false, true);
    expect(maxAbs(tf.sub(rebuilt, m))).toBeLessThan(5e-6);
    expect(maxAbs(tf.sub(tf.matMul(u, u, true, false), tf.eye(3)))).toBeLessThan(2e-6);
    expect(maxAbs(tf.sub(tf.matMul(v, v, true, false), tf.eye(3)))).toBeLessThan(2e-6);
    s.arraySync().forEach(([a, b, c]) => {
      expect(a).toBeGreaterThanOrEqual(b);
      expect(b).toBeGreaterThanOrEqual(c);
      expect(c).toBeGreaterThanOrEqual(0);
    });
    tf.dispose([m, u, s, v, rebuilt]);
  });

  test('gradient of singular values and of u_k v_k^T equals finite differences', () => {
    const m0 = [[1.2, -0.3, 0.5], [0.2, 0.8, -0.4], [-0.6, 0.1, 0.3]];
    const c = [0.4, -0.9, 1.3];
    const w = Array.from({ length: 3 }, () => Array.from({ length: 9 }, () => random(-1, 1)));
    const lossDouble = (flat: number[]) => {
      const m = [0, 1, 2].map((i) => flat.slice(3 * i, 3 * i + 3));
      const mtm = transpose(m).map((row) => [0, 1, 2].map((j) => row.reduce((acc, x, k) => acc + x * m[k][j], 0)));
      const { values, vectors } = jacobiEigen(mtm); // ascending
      let l = 0;
      for (let k = 0; k < 3; k++) {
        const idx = 2 - k; // descending order
        const sk = Math.sqrt(values[idx]);
        const vk = vectors.map((row) => row[idx]);
        const uk = m.map((row) => row.reduce((acc, x, j) => acc + x * vk[j], 0) / sk);
        l += c[k] * sk;
        for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) l += w[k][3 * i + j] * uk[i] * vk[j];
      }
      return l;
    };
    const fd = finiteDifferences(lossDouble, m0.flat());
    const g = tf.tidy(() =>
      tf.grad((x: tf.Tensor) => {
        const { u, s, v } = svd3(x as tf.Tensor3D);
        const outer = tf.mul(u.reshape([1, 3, 1, 3]), v.reshape([1, 1, 3, 3])); // [1, i, j, k] = u_ik v_jk
        return tf.add(tf.sum(tf.mul(s, tf.tensor2d([c]))), tf.sum(tf.mul(tf.transpose(outer, [0, 3, 1, 2]).reshape([1, 3, 9]), tf.tensor3d([w]))));
      })(tf.tensor3d([m0])).dataSync(),
    );
    const scale = Math.max(...fd.map(Math.abs));
    fd.forEach((d, i) => expect(Math.abs(g[i] - d)).toBeLessThan(1e-4 * scale));
  });

  test('repeated singular values (a rotation): the gradient of the singular values is finite and exact', () => {
    const r = [[0, -1, 0], [1, 0, 0], [0, 0, 1]];
    const g = tf.tidy(() => tf.grad((x: tf.Tensor) => tf.sum(tf.mul(svd3(x as tf.Tensor3D).s, tf.tensor2d([[1, 2, 3]]))))(tf.tensor3d([r])).dataSync());
    g.forEach((x) => expect(Number.isFinite(x)).toBe(true));
    // d(s0 + s1 + s2)/dM = R at a rotation (the nuclear norm's gradient), whatever the weights' split
    const gSum = tf.tidy(() => (tf.grad((x: tf.Tensor) => tf.sum(svd3(x as tf.Tensor3D).s))(tf.tensor3d([r])) as tf.Tensor3D).arraySync()[0]);
    gSum.forEach((row, i) => row.forEach((x, j) => expect(x).toBeCloseTo(r[i][j], 5)));
  });

  test('the third left singular vector follows u0 x u1 (rank 2 gives a proper orthonormal U)', () => {
    const m = tf.tensor3d([[[1, 0, 0], [0, 2, 0], [0, 0, 0]]]);
    const { u } = svd3(m);
    const cols = transpose(u.arraySync()[0]);
    cross(cols[0], cols[1]).forEach((x, i) => expect(Math.abs(Math.abs(x) - Math.abs(cols[2][i]))).toBeLessThan(1e-6));
    tf.dispose([m, u]);
  });
});

test('bad input is refused with the expected shape named', () => {
  expect(() => symmetricEigen(tf.zeros([2, 3, 4]) as tf.Tensor3D)).toThrow(/a: expected symmetric matrices of shape \[B, n, n\]/);
  expect(() => svd3(tf.zeros([2, 4, 4]) as tf.Tensor3D)).toThrow(/m: expected matrices of shape \[B, 3, 3\]/);
  expect(() => symmetricEigen(tf.zeros([1, 3, 3]) as tf.Tensor3D, { sweeps: 0 })).toThrow(/sweeps: expected a positive integer/);
});
