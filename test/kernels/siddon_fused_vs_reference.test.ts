/**
 * The fused kernel equals the tensor-op reference on small random volumes and rays, and the
 * reference's tape gradient equals central finite differences of a double-precision evaluation.
 */
import * as tf from '@tensorflow/tfjs';
import { siddonForwardImpl, type VolumeShape } from '../../kernels/shared/siddon_impl.js';
import { siddon } from '../../lib/ops/siddon.js';
import { siddonReference } from '../../lib/renderers/siddon_reference.js';
import { maxRelativeError, useCpuBackend } from '../helpers/tf_setup.js';
import { randomRayCase } from '../helpers/random_rays.js';

beforeAll(useCpuBackend);


const ranges = [
  { name: 'the whole line', alphaMin: -Infinity, alphaMax: Infinity },
  { name: 'source to target', alphaMin: 0, alphaMax: 1 },
];

describe.each([0.5, 0])('fused kernel = tensor-op reference (voxelShift %d)', (voxelShift) => {
  test.each(ranges)('random rays through random volumes, $name', ({ alphaMin, alphaMax }) => {
    for (const [seed, shape] of [[1, [5, 6, 7]], [2, [9, 4, 3]], [3, [1, 8, 8]]] as Array<[number, VolumeShape]>) {
      const { volume, source, target } = randomRayCase(seed, shape, 400);
      const [fused, reference] = tf.tidy(() => {
        const vol = tf.tensor3d(volume, [...shape]);
        const s = tf.tensor2d(source, [400, 3]);
        const t = tf.tensor2d(target, [400, 3]);
        const options = { voxelShift, alphaMin, alphaMax };
        return [siddon(vol, s, t, options).dataSync(), siddonReference(vol, s, t, options).dataSync()];
      });
      expect(maxRelativeError(fused, reference)).toBeLessThan(1e-5);
      expect(fused.some((v) => v > 0)).toBe(true);
    }
  });
});

describe('tf.grad through the reference = finite differences of a float64 evaluation', () => {
  const shape: VolumeShape = [5, 6, 7];
  const nRays = 24;
  const { volume, source, target } = randomRayCase(7, shape, nRays);
  const voxelShift = 0.5;
  const range = { alphaMin: 0, alphaMax: 1 };

  /** Double-precision line integral of one ray, with endpoints given as doubles. */
  function integral64(vol: Float32Array | Float64Array, s: number[], t: number[]): number {
    const out = new Float64Array(1);
    const rays = { density: vol, shape, source: Float64Array.from(s), target: Float64Array.from(t), nRays: 1, raysPerSource: 1, mask: null };
    siddonForwardImpl(rays, { voxelShift, ...range, reduce: 'sum', channels: 1 }, out);
    return out[0];
  }

  test('d/d source and d/d target, per ray (steps that cross no voxel edge)', () => {
    const [gs, gt] = tf.tidy(() => {
      const vol = tf.tensor3d(volume, [...shape]);
      const f = (s: tf.Tensor, t: tf.Tensor) => siddonReference(vol, s as tf.Tensor2D, t as tf.Tensor2D, { voxelShift, ...range }).sum();
      return tf.grads(f)([tf.tensor2d(source, [nRays, 3]), tf.tensor2d(target, [nRays, 3])]).map((g) => g.dataSync());
    });
    const h = 1e-5;
    let checked = 0;
    for (let r = 0; r < nRays; r++) {
      const s = Array.from(source.subarray(3 * r, 3 * r + 3));
      const t = Array.from(target.subarray(3 * r, 3 * r + 3));
      if (integral64(volume, s, t) === 0) continue;
      for (const [which, grad] of [['source', gs], ['target', gt]] as const) {
        for (let a = 0; a < 3; a++) {
          const fd = (hh: number) => {
            const plus = which === 'source' ? s.map((v, i) => (i === a ? v + hh : v)) : s;
            const minus = which === 'source' ? s.map((v, i) => (i === a ? v - hh : v)) : s;
            const tPlus = which === 'target' ? t.map((v, i) => (i === a ? v + hh : v)) : t;
            const tMinus = which === 'target' ? t.map((v, i) => (i === a ? v - hh : v)) : t;
            return (integral64(volume, plus, tPlus) - integral64(volume, minus, tMinus)) / (2 * hh);
          };
          const d1 = fd(h);
          // Piecewise smooth: where halving the step changes the difference, the step crossed an edge.
          if (Math.abs(d1 - fd(h / 2)) > 1e-6 * Math.max(1, Math.abs(d1))) continue;
          expect(Math.abs(grad[3 * r + a] - d1)).toBeLessThan(1e-4 * Math.max(1, Math.abs(d1)));
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(30);
  });

  test('d/d density: each voxel gets the ray length inside it', () => {
    const grad = tf.tidy(() => {
      const f = (v: tf.Tensor) => siddonReference(v as tf.Tensor3D, tf.tensor2d(source, [nRays, 3]), tf.tensor2d(target, [nRays, 3]), { voxelShift, ...range }).sum();
      return tf.grad(f)(tf.tensor3d(volume, [...shape])).dataSync();
    });
    // The integral is linear in the density: its derivative is the integral of a one-hot volume.
    const oneHot = new Float64Array(volume.length);
    for (let v = 0; v < volume.length; v++) {
      oneHot.fill(0);
      oneHot[v] = 1;
      let expected = 0;
      for (let r = 0; r < nRays; r++) {
        expected += integral64(oneHot, Array.from(source.subarray(3 * r, 3 * r + 3)), Array.from(target.subarray(3 * r, 3 * r + 3)));
      }
      expect(Math.abs(grad[v] - expected)).toBeLessThan(1e-5 * Math.max(1, expected));
    }
  });
});
