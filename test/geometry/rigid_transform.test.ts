/** RigidTransform, quaternion algebra and randomRigidTransform. */
import * as tf from '@tensorflow/tfjs';
import { so3Log } from '../../lib/geometry/axis_angle.js';
import { convert } from '../../lib/geometry/pose.js';
import {
  matrixToQuaternion, quaternionApply, quaternionInvert, quaternionMultiply, quaternionRawMultiply, quaternionToMatrix, standardizeQuaternion,
} from '../../lib/geometry/quaternion.js';
import { randomRigidTransform } from '../../lib/geometry/random_rigid_transform.js';
import { RigidTransform } from '../../lib/geometry/rigid_transform.js';
import { se3Log } from '../../lib/geometry/se3.js';
import * as d from '../helpers/double_rotations.js';
import { seededRandom, useCpuBackend } from '../helpers/tf_setup.js';

beforeAll(useCpuBackend);

const random = seededRandom(41);
const poses = Array.from({ length: 4 }, () => d.makePose(d.randomRotation(random), [random(-50, 50), random(-50, 50), random(-50, 50)]));
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

describe('RigidTransform', () => {
  test('compose applies this first, then other (matrix other · this), like DiffDRR', () => {
    tf.tidy(() => {
      const a = new RigidTransform(tf.tensor3d(poses));
      const b = new RigidTransform(tf.tensor3d([...poses].reverse()));
      const ab = a.compose(b);
      poses.forEach((p, i) => expect(maxDiff(ab.matrix.arraySync()[i].flat(), d.mul4(poses[3 - i], p).flat())).toBeLessThan(1e-4));
      const pts = tf.tensor2d([[1, 2, 3], [-4, 5, 0.5]]);
      expect(maxDiff(ab.apply(pts).dataSync(), b.apply(a.apply(pts)).dataSync())).toBeLessThan(1e-4);
    });
  });

  test('a batch of one composes with a batch of B', () => {
    tf.tidy(() => {
      const a = new RigidTransform(tf.tensor3d(poses));
      const one = new RigidTransform(tf.tensor2d(poses[0]));
      expect(one.length).toBe(1);
      expect(a.compose(one).length).toBe(4);
      expect(one.compose(a).length).toBe(4);
      expect(() => a.compose(new RigidTransform(tf.tensor3d(poses.slice(0, 2))))).toThrow(/other: expected 4 transforms \(or 1\)/);
    });
  });

  test('inverse is the closed form: T · T^-1 = I, and apply inverts', () => {
    tf.tidy(() => {
      const a = new RigidTransform(tf.tensor3d(poses));
      const identity = a.compose(a.inverse()).matrix;
      expect(maxDiff(identity.dataSync(), tf.tile(tf.eye(4).expandDims(0), [4, 1, 1]).dataSync())).toBeLessThan(1e-5);
      const pts = tf.randomUniform([4, 5, 3], -10, 10, 'float32', 3);
      expect(maxDiff(a.inverse().apply(a.apply(pts)).dataSync(), pts.dataSync())).toBeLessThan(1e-4);
    });
  });

  test('rotation, translation, length, at, slice', () => {
    tf.tidy(() => {
      const a = new RigidTransform(tf.tensor3d(poses));
      expect(a.length).toBe(4);
      expect(a.rotation.shape).toEqual([4, 3, 3]);
      expect(maxDiff(a.translation.arraySync()[2], [poses[2][0][3], poses[2][1][3], poses[2][2][3]])).toBeLessThan(1e-5);
      expect(maxDiff(a.at(-1).matrix.dataSync(), Float32Array.from(poses[3].flat()))).toBe(0);
      expect(maxDiff(a.at(1).matrix.dataSync(), Float32Array.from(poses[1].flat()))).toBe(0);
      expect(a.slice(1, 3).length).toBe(2);
      expect(maxDiff(a.slice(1, 3).matrix.dataSync(), Float32Array.from([...poses[1].flat(), ...poses[2].flat()]))).toBe(0);
      expect(() => a.at(4)).toThrow(/index: expected an integer in \[-4, 3\], got 4/);
      expect(() => a.slice(2, 2)).toThrow(/slice: expected integers 0 <= begin < end <= 4/);
      expect(() => new RigidTransform(tf.zeros([2, 3, 3]))).toThrow(/matrix: expected shape \[B, 4, 4\] or \[4, 4\], got shape \[2, 3, 3\]/);
      expect(() => a.apply(tf.zeros([3, 5, 3]))).toThrow(/points: expected shape \[4, N, 3\] or \[N, 3\]/);
    });
  });

  test('fromParameters equals convert; convert(p) gives back what convert takes; log() is se3Log', () => {
    tf.tidy(() => {
      const r = tf.tensor2d([[0.3, -0.2, 0.15]]);
      const t = tf.tensor2d([[15, 820, -25]]);
      const a = RigidTransform.fromParameters(r, t, { parameterization: 'euler_angles', convention: 'ZXY' });
      expect(maxDiff(a.matrix.dataSync(), convert(r, t).dataSync())).toBe(0);
      const { rotation, translation } = a.convert('euler_angles', { convention: 'ZXY' });
      expect(maxDiff(rotation.dataSync(), r.dataSync())).toBeLessThan(1e-6);
      expect(maxDiff((translation as tf.Tensor).dataSync(), t.dataSync())).toBeLessThan(5e-4); // mm on 820 mm (float32)
      expect(maxDiff(a.log().dataSync(), se3Log(a.matrix).dataSync())).toBe(0);
      const m = a.convert('matrix');
      expect(m.translation).toBeNull();
      expect(maxDiff(m.rotation.dataSync(), a.matrix.dataSync())).toBe(0);
    });
  });

  test('a matrix returned from tf.tidy survives, the intermediates do not; dispose frees it', () => {
    const before = tf.memory().numTensors;
    const a = new RigidTransform(tf.tidy(() => RigidTransform.identity(3).compose(RigidTransform.identity(1)).matrix));
    expect(tf.memory().numTensors).toBe(before + 1);
    expect(a.matrix.isDisposed).toBe(false);
    a.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('quaternion algebra', () => {
  const qa = [0.9, 0.1, -0.3, 0.2];
  const qb = [-0.2, 0.7, 0.1, 0.6];
  test('multiply composes rotations (R(a b) = R(a) R(b)) and returns the standard form', () => {
    const [prod, raw] = tf.tidy(() => {
      const a = tf.tensor2d([qa]);
      const b = tf.tensor2d([qb]);
      return [quaternionToMatrix(quaternionMultiply(a, b)).arraySync()[0], quaternionMultiply(a, b).arraySync()[0]];
    });
    expect(maxDiff(prod.flat(), d.mul3(d.quaternionToMatrix(qa), d.quaternionToMatrix(qb)).flat())).toBeLessThan(1e-6);
    expect(raw[0]).toBeGreaterThanOrEqual(0);
  });

  test('raw multiply is the Hamilton product (i j = k)', () => {
    const k = tf.tidy(() => Array.from(quaternionRawMultiply(tf.tensor1d([0, 1, 0, 0]), tf.tensor1d([0, 0, 1, 0])).dataSync()));
    expect(k).toEqual([0, 0, 0, 1]);
  });

  test('invert gives the inverse rotation; apply rotates points like R(q) (unnormalised q too)', () => {
    tf.tidy(() => {
      const q = tf.tensor2d([qa.map((x) => 3 * x)]);
      const r = d.quaternionToMatrix(qa);
      expect(maxDiff(quaternionToMatrix(quaternionInvert(q)).dataSync(), d.transpose(r).flat())).toBeLessThan(1e-6);
      const p = [[1, -2, 0.5], [3, 0, 1]];
      const rotated = (quaternionApply(q, tf.tensor3d([p])) as tf.Tensor3D).arraySync()[0];
      p.forEach((v, i) => expect(maxDiff(rotated[i], d.applyM3(r, v))).toBeLessThan(1e-5));
      expect(quaternionApply(q, tf.tensor2d([p[0]])).shape).toEqual([1, 3]);
    });
  });

  test('standardize: w > 0, or the first nonzero of (x, y, z) positive when w = 0', () => {
    const s = tf.tidy(() => standardizeQuaternion(tf.tensor2d([[-0.5, 0.5, 0.5, 0.5], [0, -1, 0, 0], [0, 0, 0, -1], [0.5, -0.5, 0.5, 0.5]])).dataSync());
    expect(maxDiff(s, [0.5, -0.5, -0.5, -0.5, 0, 1, 0, 0, 0, 0, 0, 1, 0.5, -0.5, 0.5, 0.5])).toBe(0);
  });

  test('matrixToQuaternion inverts quaternionToMatrix up to sign', () => {
    const q = tf.tidy(() => matrixToQuaternion(quaternionToMatrix(tf.tensor2d([qb]))).arraySync()[0]);
    const unit = qb.map((x) => -x / Math.hypot(...qb)); // qb has w < 0: the standard form flips it
    expect(maxDiff(q, unit)).toBeLessThan(1e-6);
  });
});

describe('randomRigidTransform', () => {
  test('reproducible per seed, rotations within maxAngle, translations within range', () => {
    const [a, b, c] = [1, 1, 2].map((seed) => randomRigidTransform({ batchSize: 200, seed, maxAngle: 0.3, maxTranslation: [10, 50, 5] }));
    expect(maxDiff(a.matrix.dataSync(), b.matrix.dataSync())).toBe(0);
    expect(maxDiff(a.matrix.dataSync(), c.matrix.dataSync())).toBeGreaterThan(0);
    const angles = tf.tidy(() => tf.norm(so3Log(a.rotation), 'euclidean', 1).arraySync() as number[]);
    angles.forEach((x) => expect(x).toBeLessThanOrEqual(0.3 + 1e-5));
    expect(Math.max(...angles)).toBeGreaterThan(0.2);
    a.translation.arraySync().forEach(([x, y, z]) => {
      expect(Math.abs(x)).toBeLessThanOrEqual(10);
      expect(Math.abs(y)).toBeLessThanOrEqual(50);
      expect(Math.abs(z)).toBeLessThanOrEqual(5);
    });
    [a, b, c].forEach((t) => t.dispose());
  });

  test('maxAngle pi gives uniform rotations (mean trace ~ 0, mean angle ~ pi/2 + 2/pi)', () => {
    const t = randomRigidTransform({ batchSize: 4000, seed: 3 });
    const [trace, angle] = tf.tidy(() => [
      tf.mean(tf.sum(tf.mul(t.rotation, tf.eye(3)), [1, 2])).dataSync()[0],
      tf.mean(tf.norm(so3Log(t.rotation), 'euclidean', 1)).dataSync()[0],
    ]);
    expect(Math.abs(trace)).toBeLessThan(0.06);
    expect(Math.abs(angle - (Math.PI / 2 + 2 / Math.PI))).toBeLessThan(0.04);
    t.dispose();
  });

  test('bad options are refused', () => {
    expect(() => randomRigidTransform({ maxAngle: 4 })).toThrow(/maxAngle: expected a number in \[0, pi\]/);
    expect(() => randomRigidTransform({ batchSize: 0 })).toThrow(/batchSize: expected a positive integer/);
    expect(() => randomRigidTransform({ maxTranslation: [1, 2] as never })).toThrow(/maxTranslation: expected a finite number >= 0 or three of them/);
  });
});
