/**
 * The intrinsic matrix as DiffDRR builds it (detector.py `make_intrinsic_matrix`, with its
 * negated x0/y0 properties) and its inverse `parseIntrinsicMatrix`.
 */
import * as tf from '@tensorflow/tfjs';
import { intrinsicMatrix, parseIntrinsicMatrix, type IntrinsicOptions } from '../../lib/geometry/intrinsics.js';
import { useCpuBackend } from '../helpers/tf_setup.js';

beforeAll(useCpuBackend);

test("DiffDRR's K: fx = sdd/delx, fy = sdd/dely, u0 = width/2 - x0/delx, v0 = height/2 - y0/dely", () => {
  expect(intrinsicMatrix({ sdd: 1020, height: 200, delx: 2 })).toEqual([[510, 0, 100], [0, 510, 100], [0, 0, 1]]);
  const k = intrinsicMatrix({ sdd: 1000, height: 100, width: 120, delx: 2, dely: 4, x0: 5, y0: -8 });
  expect(k).toEqual([[500, 0, 60 - 2.5], [0, 250, 50 + 2], [0, 0, 1]]);
});

test.each<[IntrinsicOptions]>([
  [{ sdd: 1020, height: 200, delx: 2 }],
  [{ sdd: 987.5, height: 96, width: 130, delx: 1.5, dely: 2.25, x0: -12.5, y0: 30 }],
  [{ sdd: 500, height: 7, width: 3, delx: 0.3, dely: 0.7, x0: 0.1, y0: -0.2 }],
])('parseIntrinsicMatrix inverts intrinsicMatrix: %j', (detector) => {
  const k = intrinsicMatrix(detector);
  const parsed = parseIntrinsicMatrix(k, detector);
  expect(parsed.sdd).toBeCloseTo(detector.sdd, 9);
  expect(parsed.x0).toBeCloseTo(detector.x0 ?? 0, 9);
  expect(parsed.y0).toBeCloseTo(detector.y0 ?? 0, 9);
  const fromTensor = parseIntrinsicMatrix(tf.tensor2d(k, [3, 3], 'float32'), detector);
  expect(fromTensor.sdd).toBeCloseTo(detector.sdd, 2);
});

test('bad intrinsic matrices are refused with the entry named', () => {
  const grid = { height: 10, delx: 1 };
  expect(() => parseIntrinsicMatrix([[500, 1, 5], [0, 500, 5], [0, 0, 1]], grid)).toThrow(/intrinsic: expected no skew \(K\[0\]\[1\] = K\[1\]\[0\] = 0\), got 1, 0/);
  expect(() => parseIntrinsicMatrix([[500, 0, 5], [0, 500, 5], [0, 0, 2]], grid)).toThrow(/intrinsic: expected the last row \[0, 0, 1\], got \[0, 0, 2\]/);
  expect(() => parseIntrinsicMatrix([[0, 0, 5], [0, 500, 5], [0, 0, 1]], grid)).toThrow(/intrinsic: expected nonzero focal lengths/);
  expect(() => parseIntrinsicMatrix([[500, 0], [0, 500]], grid)).toThrow(/intrinsic: expected a 3x3 matrix of finite numbers/);
  expect(() => parseIntrinsicMatrix([[500, 0, NaN], [0, 500, 5], [0, 0, 1]], grid)).toThrow(/intrinsic: expected a 3x3 matrix of finite numbers/);
  expect(() => parseIntrinsicMatrix([[500, 0, 5], [0, 500, 5], [0, 0, 1]], { height: 0, delx: 1 })).toThrow(/height: expected a positive integer/);
  expect(() => intrinsicMatrix({ sdd: -1, height: 10, delx: 1 })).toThrow(/sdd: expected a finite number > 0/);
});
