/**
 * The `CameraRays` kernel (cpu and wasm) against the tensor-op rays it replaces in `indexRays`
 * (one homogeneous matMul for the targets, `|L t|` for the lengths): targets and lengths within
 * float32 rounding, the gradients with respect to both matrices within 1e-5 of the tensor ops'
 * (tf.grad through both) and of central finite differences in float64; a length of 0 has no
 * gradient; bad shapes get a clear error.
 */
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs';
import { cameraRays } from '../../lib/ops/camera_rays.js';
import { maxRelativeError, seededRandom, useCpuBackend } from '../helpers/tf_setup.js';

const B = 2;
const P = 50;
const random = seededRandom(5);
const camToIndex = Float32Array.from({ length: B * 12 }, () => random(-2, 2));
const linear = Float32Array.from({ length: B * 9 }, () => random(-1.5, 1.5));
const pixels = Float32Array.from({ length: P * 3 }, () => random(-100, 100));
// the same with pixel 7 at the camera origin: length 0 (the tensor ops' gradient is NaN there)
const points = Float32Array.from(pixels, (v, i) => (i >= 21 && i < 24 ? 0 : v));
const weightsT = Float32Array.from({ length: B * P * 3 }, () => random(-1, 1));
const weightsL = Float32Array.from({ length: B * P }, () => random(-1, 1));

/** The rays by tensor ops (indexRays' matMul path). */
function tensorOpRays(c: tf.Tensor3D, l: tf.Tensor3D, t: tf.Tensor2D): { target: tf.Tensor; rayLength: tf.Tensor } {
  const homogeneous = tf.concat([t, tf.ones([P, 1])], 1);
  const target = tf.matMul(homogeneous.reshape([1, P, 4]).tile([B, 1, 1]), c, false, true);
  const lt = tf.matMul(t.reshape([1, P, 3]).tile([B, 1, 1]), l, false, true);
  return { target, rayLength: tf.sqrt(tf.sum(tf.square(lt), 2)) };
}

/** A weighted sum of targets and lengths, and its gradients with respect to both matrices. */
function lossAndGrads(
  rays: (c: tf.Tensor3D, l: tf.Tensor3D, t: tf.Tensor2D) => { target: tf.Tensor; rayLength: tf.Tensor },
  at: Float32Array,
): { target: Float32Array; rayLength: Float32Array; dC: Float32Array; dL: Float32Array } {
  const c = tf.tensor3d(camToIndex, [B, 3, 4]);
  const l = tf.tensor3d(linear, [B, 3, 3]);
  const t = tf.tensor2d(at, [P, 3]);
  const out = rays(c, l, t);
  const f = (a: tf.Tensor, b: tf.Tensor) => {
    const r = rays(a as tf.Tensor3D, b as tf.Tensor3D, t);
    return tf.add(tf.sum(tf.mul(r.target, tf.tensor3d(weightsT, [B, P, 3]))), tf.sum(tf.mul(r.rayLength, tf.tensor2d(weightsL, [B, P]))));
  };
  const [dC, dL] = tf.grads(f)([c, l]);
  const result = { target: out.target.dataSync() as Float32Array, rayLength: out.rayLength.dataSync() as Float32Array, dC: dC.dataSync() as Float32Array, dL: dL.dataSync() as Float32Array };
  tf.dispose([c, l, t, out.target, out.rayLength, dC, dL]);
  return result;
}

/** The loss in float64, for finite differences. */
function loss64(c: ArrayLike<number>, l: ArrayLike<number>): number {
  let sum = 0;
  for (let b = 0; b < B; b++) {
    for (let p = 0; p < P; p++) {
      const t = [points[3 * p], points[3 * p + 1], points[3 * p + 2], 1];
      let length2 = 0;
      for (let i = 0; i < 3; i++) {
        let target = 0;
        let lt = 0;
        for (let j = 0; j < 4; j++) target += c[12 * b + 4 * i + j] * t[j];
        for (let j = 0; j < 3; j++) lt += l[9 * b + 3 * i + j] * t[j];
        sum += weightsT[3 * (b * P + p) + i] * target;
        length2 += lt * lt;
      }
      sum += weightsL[b * P + p] * Math.sqrt(length2);
    }
  }
  return sum;
}

describe.each(['cpu', 'wasm'])('%s backend', (backend) => {
  beforeAll(async () => {
    await useCpuBackend();
    await tf.setBackend(backend);
  });
  afterAll(() => tf.setBackend('cpu'));

  test('targets and lengths = the tensor ops within float32 rounding; gradients within 1e-5', () => {
    const fused = lossAndGrads((c, l, t) => cameraRays(c, l, t), pixels);
    const ops = lossAndGrads(tensorOpRays, pixels);
    expect(maxRelativeError(fused.target, ops.target)).toBeLessThan(1e-6);
    expect(maxRelativeError(fused.rayLength, ops.rayLength)).toBeLessThan(1e-6);
    expect(maxRelativeError(fused.dC, ops.dC)).toBeLessThan(1e-5);
    expect(maxRelativeError(fused.dL, ops.dL)).toBeLessThan(1e-5);
  });

  test('gradients = central finite differences in float64, with a ray of length 0', () => {
    const fused = lossAndGrads((c, l, t) => cameraRays(c, l, t), points);
    expect(fused.rayLength[7]).toBe(0);
    expect(fused.rayLength[P + 7]).toBe(0);
    const h = 1e-4;
    const fd = (which: 'c' | 'l', i: number): number => {
      const c = Float64Array.from(camToIndex);
      const l = Float64Array.from(linear);
      const x = which === 'c' ? c : l;
      x[i] += h;
      const up = loss64(c, l);
      x[i] -= 2 * h;
      return (up - loss64(c, l)) / (2 * h);
    };
    expect(maxRelativeError(fused.dC, Array.from(camToIndex, (_, i) => fd('c', i)))).toBeLessThan(1e-5);
    expect(maxRelativeError(fused.dL, Array.from(linear, (_, i) => fd('l', i)))).toBeLessThan(1e-5);
  });
});

test('bad shapes: a clear error naming the input', async () => {
  await useCpuBackend();
  const t = tf.zeros([4, 3]) as tf.Tensor2D;
  expect(() => cameraRays(tf.zeros([1, 3, 3]) as tf.Tensor3D, tf.zeros([1, 3, 3]) as tf.Tensor3D, t)).toThrow(/camToIndex: expected a tensor of rank 3 with last dimension 4/);
  expect(() => cameraRays(tf.zeros([2, 3, 4]) as tf.Tensor3D, tf.zeros([1, 3, 3]) as tf.Tensor3D, t)).toThrow(/camToIndex, linear: expected shapes \[B, 3, 4\] and \[B, 3, 3\]/);
  expect(() => cameraRays(tf.zeros([1, 3, 4]) as tf.Tensor3D, tf.zeros([1, 3, 3]) as tf.Tensor3D, tf.zeros([4, 2]) as tf.Tensor2D)).toThrow(/points: expected a tensor of rank 2 with last dimension 3/);
});
