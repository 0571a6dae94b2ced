/** Euler angles: every valid convention against rotation products computed in double precision. */
import * as tf from '@tensorflow/tfjs';
import { eulerAnglesToMatrix, parseEulerConvention } from '../../lib/geometry/euler_angles.js';
import { useCpuBackend } from '../helpers/tf_setup.js';

beforeAll(useCpuBackend);

type M3 = number[][];
const elementary: Record<string, (a: number) => M3> = {
  X: (a) => [[1, 0, 0], [0, Math.cos(a), -Math.sin(a)], [0, Math.sin(a), Math.cos(a)]],
  Y: (a) => [[Math.cos(a), 0, Math.sin(a)], [0, 1, 0], [-Math.sin(a), 0, Math.cos(a)]],
  Z: (a) => [[Math.cos(a), -Math.sin(a), 0], [Math.sin(a), Math.cos(a), 0], [0, 0, 1]],
};
const mul = (a: M3, b: M3): M3 => a.map((row) => [0, 1, 2].map((c) => row.reduce((s, v, k) => s + v * b[k][c], 0)));

const conventions = ['XYZ', 'XZY', 'YXZ', 'YZX', 'ZXY', 'ZYX', 'XYX', 'XZX', 'YXY', 'YZY', 'ZXZ', 'ZYZ'];
const angles = [
  [0.3, -0.2, 0.15],
  [-1.2, 0.7, 2.9],
  [0, Math.PI / 2, 0.4], // gimbal lock for Tait-Bryan conventions
];

test.each(conventions)('%s: R = R_A(a0) R_B(a1) R_C(a2)', (convention) => {
  const r = tf.tidy(() => eulerAnglesToMatrix(tf.tensor2d(angles), convention).arraySync() as number[][][]);
  angles.forEach(([a0, a1, a2], b) => {
    const [A, B, C] = convention.split('');
    const expected = mul(mul(elementary[A](a0), elementary[B](a1)), elementary[C](a2));
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) expect(r[b][i][j]).toBeCloseTo(expected[i][j], 6);
  });
});

test('degrees: true equals radians', () => {
  const [deg, rad] = tf.tidy(() => [
    eulerAnglesToMatrix(tf.tensor2d([[30, -45, 60]]), 'ZXY', true).dataSync(),
    eulerAnglesToMatrix(tf.tensor2d([[Math.PI / 6, -Math.PI / 4, Math.PI / 3]]), 'ZXY').dataSync(),
  ]);
  deg.forEach((v, i) => expect(v).toBeCloseTo(rad[i], 6));
});

test('the gradient of a matrix entry is the analytic derivative', () => {
  // d/da of Rz(a)[0][1] = -sin(a) is -cos(a)
  const g = tf.tidy(() => tf.grad((a: tf.Tensor) => tf.slice(eulerAnglesToMatrix(a as tf.Tensor2D, 'ZXY'), [0, 0, 1], [1, 1, 1]).sum())(tf.tensor2d([[0.4, 0, 0]])).dataSync());
  expect(g[0]).toBeCloseTo(-Math.cos(0.4), 6);
});

test.each(['XXY', 'XYY', 'ABC', 'zxy', 'ZX', 'ZXYZ', ''])('convention %p is refused with a clear error', (convention) => {
  expect(() => parseEulerConvention(convention)).toThrow(/convention: expected 3 letters over X, Y, Z/);
});
