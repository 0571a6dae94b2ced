/**
 * Every rotation parameterization: toMatrix against double-precision formulas, round trips
 * matrix -> parameters -> matrix on 1000 rotations (uniform, near 0, near and at pi, gimbal lock),
 * canonical forms, and clear errors on bad input.
 */
import * as tf from '@tensorflow/tfjs';
import { matrixToEulerAngles } from '../../lib/geometry/euler_angles.js';
import { matrixToRotation, rotationToMatrix, type RotationParameterization } from '../../lib/geometry/parameterizations.js';
import { convert } from '../../lib/geometry/pose.js';
import { RigidTransform } from '../../lib/geometry/rigid_transform.js';
import { rotation10dToQuaternion } from '../../lib/geometry/rotation_10d.js';
import { quaternionAdjugateToQuaternion } from '../../lib/geometry/quaternion_adjugate.js';
import * as d from '../helpers/double_rotations.js';
import { seededRandom, useCpuBackend } from '../helpers/tf_setup.js';

beforeAll(useCpuBackend);

const CONVENTIONS = ['XYZ', 'XZY', 'YXZ', 'YZX', 'ZXY', 'ZYX', 'XYX', 'XZX', 'YXY', 'YZY', 'ZXZ', 'ZYZ'];
const ROTATIONS: RotationParameterization[] = ['axis_angle', 'euler_angles', 'quaternion', 'quaternion_adjugate', 'rotation_6d', 'rotation_9d', 'rotation_10d'];

/** 1000 rotations: uniform, tiny angles, near and at pi, gimbal lock of `convention`, axis-aligned. */
function testRotations(seed: number, convention = 'ZXY'): d.M3[] {
  const random = seededRandom(seed);
  const out: d.M3[] = [];
  for (let k = 0; k < 600; k++) out.push(d.randomRotation(random));
  for (let k = 0; k < 100; k++) out.push(d.axisAngleToMatrix(d.randomAxis(random).map((x) => x * 10 ** random(-8, -2))));
  for (let k = 0; k < 100; k++) out.push(d.axisAngleToMatrix(d.randomAxis(random).map((x) => x * (Math.PI - 10 ** random(-7, -2)))));
  for (let k = 0; k < 50; k++) {
    const axis = k < 3 ? [0, 1, 2].map((i) => (i === k ? 1 : 0)) : d.randomAxis(random);
    out.push(d.axisAngleToMatrix(axis.map((x) => x * Math.PI)));
  }
  const [a, , c] = convention.split('');
  const locks = a === c ? [0, Math.PI] : [Math.PI / 2, -Math.PI / 2];
  const nudges = [0, 0, 1e-7, -1e-7, 1e-5, -1e-5, 1e-3];
  for (let k = 0; k < 100; k++) {
    const middle = locks[k % 2] + nudges[k % nudges.length] * (locks[k % 2] === Math.PI ? -1 : 1);
    out.push(d.eulerToMatrix([random(-Math.PI, Math.PI), middle, random(-Math.PI, Math.PI)], convention));
  }
  const quarter = [0, Math.PI / 2, Math.PI, -Math.PI / 2];
  while (out.length < 1000) out.push(d.eulerToMatrix([quarter[out.length % 4], quarter[(out.length >> 2) % 4], quarter[(out.length >> 4) % 4]], 'ZYX'));
  return out;
}

/** max |a - b| over all entries. */
function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function roundTrip(matrices: d.M3[], parameterization: RotationParameterization, convention = 'ZXY'): number {
  return tf.tidy(() => {
    const r = tf.tensor3d(matrices);
    const p = matrixToRotation(r, parameterization, { convention });
    const back = rotationToMatrix(p, parameterization, { convention });
    return maxDiff(back.dataSync(), r.dataSync());
  });
}

describe('round trips matrix -> parameters -> matrix to 1e-6 on 1000 rotations', () => {
  test.each(ROTATIONS.filter((p) => p !== 'euler_angles'))('%s', (parameterization) => {
    const err = roundTrip(testRotations(7), parameterization);
    console.log(`round trip ${parameterization}: max |R' - R| = ${err.toExponential(2)}`);
    expect(err).toBeLessThanOrEqual(1e-6);
  });

  test.each(CONVENTIONS)('euler_angles %s (gimbal lock of this convention included)', (convention) => {
    const err = roundTrip(testRotations(8, convention), 'euler_angles', convention);
    console.log(`round trip euler_angles ${convention}: max |R' - R| = ${err.toExponential(2)}`);
    expect(err).toBeLessThanOrEqual(1e-6);
  });

  test('se3_log_map and matrix, through RigidTransform.convert and convert (translations up to 100 mm)', () => {
    const random = seededRandom(9);
    const rotations = testRotations(9);
    const poses = rotations.map((r) => d.makePose(r, [random(-100, 100), random(-100, 100), random(-100, 100)]));
    for (const parameterization of ['se3_log_map', 'matrix'] as const) {
      const [errR, errT] = tf.tidy(() => {
        const rt = new RigidTransform(tf.tensor3d(poses));
        const { rotation, translation } = rt.convert(parameterization);
        const back = convert(rotation, translation, { parameterization });
        const diff = tf.abs(tf.sub(back, rt.matrix));
        return [tf.max(tf.slice(diff, [0, 0, 0], [-1, 3, 3])).dataSync()[0], tf.max(tf.slice(diff, [0, 0, 3], [-1, 3, 1])).dataSync()[0]];
      });
      console.log(`round trip ${parameterization}: max |R' - R| = ${errR.toExponential(2)}, max |t' - t| = ${errT.toExponential(2)} mm`);
      expect(errR).toBeLessThanOrEqual(1e-6);
      expect(errT).toBeLessThanOrEqual(1e-6 * 100 * 2);
    }
  });

  test('every rotation parameterization through RigidTransform.convert and convert keeps the translation', () => {
    const random = seededRandom(10);
    const poses = Array.from({ length: 50 }, () => d.makePose(d.randomRotation(random), [random(-100, 100), random(700, 900), random(-100, 100)]));
    for (const parameterization of ROTATIONS) {
      const err = tf.tidy(() => {
        const rt = new RigidTransform(tf.tensor3d(poses));
        const { rotation, translation } = rt.convert(parameterization, { convention: 'XZX' });
        return maxDiff(convert(rotation, translation, { parameterization, convention: 'XZX' }).dataSync(), rt.matrix.dataSync());
      });
      expect(err).toBeLessThan(5e-4); // mm on translations of ~900 mm: 5e-7 relative (float32)
    }
  });
});

describe('canonical forms', () => {
  const rotations = testRotations(12);
  test('quaternion: unit length and w >= 0', () => {
    const q = tf.tidy(() => matrixToRotation(tf.tensor3d(rotations), 'quaternion').arraySync());
    q.forEach(([w, x, y, z]) => {
      expect(Math.abs(Math.hypot(w, x, y, z) - 1)).toBeLessThan(1e-6);
      expect(w).toBeGreaterThanOrEqual(0);
    });
  });

  test('axis_angle: angle in [0, pi]', () => {
    const w = tf.tidy(() => matrixToRotation(tf.tensor3d(rotations), 'axis_angle').arraySync());
    w.forEach((v) => expect(Math.hypot(...v)).toBeLessThanOrEqual(Math.PI + 1e-6));
  });

  test('rotation_10d and quaternion_adjugate are -q q^T and q q^T of the standard quaternion', () => {
    const [q, q10, qa] = tf.tidy(() => {
      const r = tf.tensor3d(rotations.slice(0, 100));
      return [
        matrixToRotation(r, 'quaternion').arraySync(),
        rotation10dToQuaternion(matrixToRotation(r, 'rotation_10d')).arraySync(),
        quaternionAdjugateToQuaternion(matrixToRotation(r, 'quaternion_adjugate')).arraySync(),
      ];
    });
    expect(maxDiff(q10.flat(), q.flat())).toBeLessThan(1e-5);
    expect(maxDiff(qa.flat(), q.flat())).toBeLessThan(1e-5);
  });

  test.each(CONVENTIONS)('euler_angles %s: canonical ranges, angles recovered away from gimbal lock, a2 = 0 at gimbal lock', (convention) => {
    const random = seededRandom(13);
    const proper = convention[0] === convention[2];
    const angles = Array.from({ length: 200 }, () => [random(-3.1, 3.1), proper ? random(0.05, 3.09) : random(-1.52, 1.52), random(-3.1, 3.1)]);
    const locked = [[0.4, proper ? 0 : Math.PI / 2, -0.3], [-2, proper ? Math.PI : -Math.PI / 2, 1.1]];
    const [back, lockedBack] = tf.tidy(() => [
      matrixToEulerAngles(tf.tensor3d(angles.map((a) => d.eulerToMatrix(a, convention))), convention).arraySync(),
      matrixToEulerAngles(tf.tensor3d(locked.map((a) => d.eulerToMatrix(a, convention))), convention).arraySync(),
    ]);
    expect(maxDiff(back.flat(), angles.flat())).toBeLessThan(2e-5);
    lockedBack.forEach(([a0, a1, a2], k) => {
      expect(a2).toBe(0);
      expect(Math.abs(a1 - locked[k][1])).toBeLessThan(1e-3);
      const r = d.eulerToMatrix([a0, a1, a2], convention);
      expect(maxDiff(r.flat(), d.eulerToMatrix(locked[k], convention).flat())).toBeLessThan(1e-6);
    });
    for (const [a0, a1, a2] of [...back, ...lockedBack]) {
      [a0, a2].forEach((a) => expect(Math.abs(a)).toBeLessThanOrEqual(Math.PI + 1e-6));
      if (proper) expect(a1).toBeGreaterThanOrEqual(0);
      expect(Math.abs(proper ? a1 - Math.PI / 2 : a1)).toBeLessThanOrEqual(Math.PI / 2 + 1e-6);
    }
  });

  test('degrees: matrixToEulerAngles(R, c, true) is 180/pi times the radians', () => {
    const [rad, deg] = tf.tidy(() => {
      const r = tf.tensor3d([d.eulerToMatrix([0.3, -0.2, 1.1], 'ZXY')]);
      return [matrixToEulerAngles(r, 'ZXY').dataSync(), matrixToEulerAngles(r, 'ZXY', true).dataSync()];
    });
    deg.forEach((v, i) => expect(v).toBeCloseTo((rad[i] * 180) / Math.PI, 3));
  });
});

describe('toMatrix equals the double-precision formulas', () => {
  const random = seededRandom(21);
  const samples: Record<RotationParameterization, () => number[]> = {
    axis_angle: () => d.randomAxis(random).map((x) => x * random(0, 3.1)),
    euler_angles: () => [random(-3, 3), random(-1.5, 1.5), random(-3, 3)],
    quaternion: () => [random(-2, 2), random(-2, 2), random(-2, 2), random(-2, 2)],
    quaternion_adjugate: () => {
      const q = [random(-1, 1), random(-1, 1), random(-1, 1), random(-1, 1)];
      const a = q.map((x) => q.map((y) => x * y + random(-0.02, 0.02)));
      return [a[0][0], a[0][1], a[0][2], a[0][3], a[1][1], a[1][2], a[1][3], a[2][2], a[2][3], a[3][3]];
    },
    rotation_6d: () => Array.from({ length: 6 }, () => random(-2, 2)),
    rotation_9d: () => {
      const r = d.randomRotation(random).flat();
      return r.map((x) => x + random(-0.3, 0.3));
    },
    rotation_10d: () => Array.from({ length: 10 }, () => random(-1, 1)),
  };
  test.each(ROTATIONS)('%s (100 random parameters)', (parameterization) => {
    const params = Array.from({ length: 100 }, samples[parameterization]).filter((p) => parameterization !== 'rotation_9d' || d.det3([p.slice(0, 3), p.slice(3, 6), p.slice(6)]) > 0.05);
    const ours = tf.tidy(() => rotationToMatrix(tf.tensor2d(params), parameterization, { convention: 'YZY' }).arraySync());
    const err = Math.max(...params.map((p, b) => maxDiff(ours[b].flat(), d.rotationToMatrix(parameterization, p, 'YZY').flat())));
    expect(err).toBeLessThan(parameterization === 'rotation_10d' ? 2e-5 : 2e-6);
  });

  test('rotation_9d with det < 0 is R = U diag(1, 1, -1) V^T (a proper rotation)', () => {
    const m = [[-1, 0.1, 0], [0.05, 2, 0], [0, 0, 3]];
    const r = tf.tidy(() => rotationToMatrix(tf.tensor2d([m.flat()]), 'rotation_9d').arraySync()[0]);
    expect(d.det3(r)).toBeCloseTo(1, 5);
    // the nearest rotation flips the axis of the smallest singular value (~ x): diag(1, 1, 1)-like in y, z
    expect(r[1][1]).toBeGreaterThan(0.99);
    expect(r[2][2]).toBeGreaterThan(0.99);
    expect(r[0][0]).toBeGreaterThan(0.99);
  });
});

test('convert and fromMatrix leave no tensors behind but their results', () => {
  const inputs: Array<[RotationParameterization | 'se3_log_map', number[]]> = [
    ['axis_angle', [0.1, 0.2, 0.3]], ['euler_angles', [0.1, 0.2, 0.3]], ['quaternion', [1, 0.1, 0, 0]],
    ['quaternion_adjugate', [1, 0, 0, 0, 0, 0, 0, 0, 0, 0]], ['rotation_6d', [1, 0, 0, 0, 1, 0]],
    ['rotation_9d', [1, 0, 0, 0, 1, 0, 0, 0, 1]], ['rotation_10d', [-1, 0, 0, 0, 0, 0, 0, 0, 0, 0]], ['se3_log_map', [0.1, 0.2, 0.3]],
  ];
  const t = tf.tensor2d([[0, 850, 0]]);
  for (const [parameterization, values] of inputs) {
    const r = tf.tensor2d([values]);
    const before = tf.memory().numTensors;
    const pose = convert(r, t, { parameterization });
    expect(tf.memory().numTensors).toBe(before + 1);
    if (parameterization !== 'se3_log_map') {
      const rotation = tf.slice(pose, [0, 0, 0], [1, 3, 3]) as tf.Tensor3D;
      const back = matrixToRotation(rotation, parameterization);
      expect(tf.memory().numTensors).toBe(before + 3); // the pose, its rotation and the parameters
      tf.dispose([rotation, back]);
    }
    tf.dispose([r, pose]);
  }
  t.dispose();
});

describe('bad input gets a clear error', () => {
  const t = tf.tensor2d([[0, 850, 0]]);
  const bad: Array<[string, () => unknown, RegExp]> = [
    ['wrong trailing dimension (quaternion)', () => convert(tf.zeros([1, 3]), t, { parameterization: 'quaternion' }), /rotation: parameterization 'quaternion' expects shape \[B, 4\], got shape \[1, 3\]/],
    ['wrong trailing dimension (rotation_6d)', () => convert(tf.zeros([1, 5]), t, { parameterization: 'rotation_6d' }), /rotation: parameterization 'rotation_6d' expects shape \[B, 6\]/],
    ['wrong trailing dimension (rotation_9d)', () => convert(tf.zeros([1, 8]), t, { parameterization: 'rotation_9d' }), /expects shape \[B, 9\] \(or \[B, 3, 3\]\)/],
    ['wrong trailing dimension (rotation_10d)', () => convert(tf.zeros([1, 9]), t, { parameterization: 'rotation_10d' }), /parameterization 'rotation_10d' expects shape \[B, 10\]/],
    ['wrong trailing dimension (quaternion_adjugate)', () => convert(tf.zeros([1, 4]), t, { parameterization: 'quaternion_adjugate' }), /parameterization 'quaternion_adjugate' expects shape \[B, 10\]/],
    ['wrong trailing dimension (axis_angle)', () => convert(tf.zeros([1, 4]), t, { parameterization: 'axis_angle' }), /parameterization 'axis_angle' expects shape \[B, 3\]/],
    ['wrong trailing dimension (se3_log_map)', () => convert(tf.zeros([1, 6]), t, { parameterization: 'se3_log_map' }), /parameterization 'se3_log_map' expects shape \[B, 3\]/],
    ['unknown convention', () => convert(tf.zeros([1, 3]), t, { convention: 'XXY' }), /convention: expected 3 letters over X, Y, Z .* got "XXY"/],
    ['unknown convention (fromMatrix)', () => matrixToEulerAngles(tf.zeros([1, 3, 3]) as tf.Tensor3D, 'XXY'), /convention: expected 3 letters/],
    ['unknown parameterization', () => convert(tf.zeros([1, 3]), t, { parameterization: 'euler' as never }), /parameterization: expected one of axis_angle, euler_angles, matrix, quaternion, quaternion_adjugate, rotation_6d, rotation_9d, rotation_10d, se3_log_map, got "euler"/],
    ['NaN in a quaternion', () => convert(tf.tensor2d([[1, NaN, 0, 0]]), t, { parameterization: 'quaternion' }), /rotation: expected finite values, found NaN at flat index 1/],
    ['Infinity in a 10D rotation', () => convert(tf.tensor2d([[1, 0, 0, 0, 1, 0, 0, 1, 0, Infinity]]), t, { parameterization: 'rotation_10d' }), /rotation: expected finite values, found Infinity/],
    ['NaN in an se3 translation', () => convert(tf.zeros([1, 3]), tf.tensor2d([[0, NaN, 0]]), { parameterization: 'se3_log_map' }), /translation: expected finite values, found NaN/],
    ['zero quaternion', () => convert(tf.zeros([1, 4]), t, { parameterization: 'quaternion' }), /rotation: quaternion 0 has squared norm 0; expected a nonzero finite \(w, x, y, z\)/],
    ['all-zero 9D', () => convert(tf.zeros([1, 9]), t, { parameterization: 'rotation_9d' }), /rotation: matrix 0 is singular .* expected a 3x3 whose nearest rotation is unique/],
    ['rank-1 9D', () => convert(tf.tensor2d([[1, 2, 3, 2, 4, 6, -1, -2, -3]]), t, { parameterization: 'rotation_9d' }), /rotation: matrix 0 is singular/],
    ['reflection with equal singular values (9D)', () => convert(tf.tensor2d([[1, 0, 0, 0, 1, 0, 0, 0, -1]]), t, { parameterization: 'rotation_9d' }), /rotation: matrix 0 is singular/],
    ['all-zero 10D', () => convert(tf.zeros([1, 10]), t, { parameterization: 'rotation_10d' }), /rotation: rotation 0 is singular .* expected a symmetric 4x4 with a unique smallest eigenvalue/],
    ['10D with a repeated smallest eigenvalue', () => convert(tf.tensor2d([[0, 0, 0, 0, 0, 0, 0, 1, 0, 1]]), t, { parameterization: 'rotation_10d' }), /rotation: rotation 0 is singular/],
    ['all-zero quaternion adjugate', () => convert(tf.zeros([1, 10]), t, { parameterization: 'quaternion_adjugate' }), /rotation: rotation 0 is singular \(all ten numbers are zero\)/],
    ['parallel 6D vectors', () => convert(tf.tensor2d([[1, 2, 3, -2, -4, -6]]), t, { parameterization: 'rotation_6d' }), /rotation: rotation 0 is singular .* expected two non-parallel nonzero 3-vectors/],
    ['matrixToRotation of a non-3x3', () => matrixToRotation(tf.zeros([1, 4, 4]) as tf.Tensor3D, 'quaternion'), /matrix: expected rotation matrices of shape \[B, 3, 3\]/],
  ];
  test.each(bad)('%s', (_, f, message) => {
    const before = tf.memory().numTensors;
    expect(f).toThrow(message);
    expect(tf.memory().numTensors).toBeLessThanOrEqual(before + 2); // nothing leaks but the arguments
  });
});
