/**
 * The fused kernel's registered (analytic) gradient equals the tensor-op reference's tape gradient
 * and central finite differences of a double-precision forward.
 */
import * as tf from '@tensorflow/tfjs';
import { siddonForwardImpl, type VolumeShape } from '../../kernels/shared/siddon_impl.js';
import { siddon, type SiddonOptions } from '../../lib/ops/siddon.js';
import { siddonReference } from '../../lib/renderers/siddon_reference.js';
import { maxRelativeError, useCpuBackend } from '../helpers/tf_setup.js';
import { randomRayCase } from '../helpers/random_rays.js';

beforeAll(useCpuBackend);


type Render = (d: tf.Tensor3D, s: tf.Tensor2D, t: tf.Tensor2D, o: SiddonOptions) => tf.Tensor2D;

/** Gradients of sum(w * render) with respect to density, source and target. */
function gradients(render: Render, c: ReturnType<typeof randomRayCase>, shape: VolumeShape, nSources: number, options: SiddonOptions): Float32Array[] {
  return tf.tidy(() => {
    const w = tf.tensor1d(c.weights);
    const f = (d: tf.Tensor, s: tf.Tensor, t: tf.Tensor) => tf.sum(tf.mul(render(d as tf.Tensor3D, s as tf.Tensor2D, t as tf.Tensor2D, options), w));
    const xs = [tf.tensor3d(c.volume, [...shape]), tf.tensor2d(c.source, [nSources, 3]), tf.tensor2d(c.target, [c.weights.length, 3])];
    return tf.grads(f)(xs).map((g) => g.dataSync() as Float32Array);
  });
}

describe.each([
  ['one source per ray', 300, 300],
  ['one source per 100 rays (per pose)', 300, 3],
])('analytic gradient = tape gradient of the reference (%s)', (_, nRays, nSources) => {
  test.each([
    { voxelShift: 0.5, alphaMin: -Infinity, alphaMax: Infinity },
    { voxelShift: 0, alphaMin: -Infinity, alphaMax: Infinity },
    { voxelShift: 0.5, alphaMin: 0, alphaMax: 1 },
  ])('voxelShift $voxelShift, alpha in [$alphaMin, $alphaMax]', (options) => {
    const shape: VolumeShape = [6, 5, 7];
    const c = randomRayCase(11, shape, nRays, nSources);
    const fused = gradients(siddon, c, shape, nSources, options);
    const reference = gradients(siddonReference, c, shape, nSources, options);
    for (const [name, i] of [['density', 0], ['source', 1], ['target', 2]] as const) {
      const err = maxRelativeError(fused[i], reference[i]);
      if (err > 1e-4) throw new Error(`d/d ${name}: max error / max = ${err}`);
      expect(fused[i].some((v) => v !== 0)).toBe(true);
    }
  });
});

test('analytic d/d endpoints = central finite differences of the float64 forward, per ray', () => {
  const shape: VolumeShape = [5, 6, 7];
  const nRays = 40;
  const c = randomRayCase(5, shape, nRays, nRays);
  const options = { voxelShift: 0.5, alphaMin: -Infinity, alphaMax: Infinity };
  const grads = tf.tidy(() => {
    const f = (s: tf.Tensor, t: tf.Tensor) => tf.sum(siddon(tf.tensor3d(c.volume, [...shape]), s as tf.Tensor2D, t as tf.Tensor2D, options));
    return tf.grads(f)([tf.tensor2d(c.source, [nRays, 3]), tf.tensor2d(c.target, [nRays, 3])]);
  });
  const [gs, gt] = grads.map((g) => g.dataSync());
  tf.dispose(grads);
  const integral64 = (s: number[], t: number[]) => {
    const out = new Float64Array(1);
    const rays = { density: c.volume, shape, source: Float64Array.from(s), target: Float64Array.from(t), nRays: 1, raysPerSource: 1, mask: null };
    siddonForwardImpl(rays, { ...options, reduce: 'sum', channels: 1 }, out);
    return out[0];
  };
  let checked = 0;
  for (let r = 0; r < nRays; r++) {
    const s = Array.from(c.source.subarray(3 * r, 3 * r + 3));
    const t = Array.from(c.target.subarray(3 * r, 3 * r + 3));
    if (integral64(s, t) === 0) continue;
    for (let which = 0; which < 2; which++) {
      for (let a = 0; a < 3; a++) {
        const fd = (h: number) => {
          const bump = (p: number[], sign: number) => p.map((v, i) => (i === a ? v + sign * h : v));
          return which === 0 ? (integral64(bump(s, 1), t) - integral64(bump(s, -1), t)) / (2 * h) : (integral64(s, bump(t, 1)) - integral64(s, bump(t, -1))) / (2 * h);
        };
        const d1 = fd(1e-5);
        if (Math.abs(d1 - fd(5e-6)) > 1e-6 * Math.max(1, Math.abs(d1))) continue; // the step crossed a voxel edge
        const analytic = (which === 0 ? gs : gt)[3 * r + a];
        expect(Math.abs(analytic - d1)).toBeLessThan(1e-4 * Math.max(1, Math.abs(d1)));
        checked++;
      }
    }
  }
  expect(checked).toBeGreaterThan(100);
});

test('gradients leave tf.memory().numTensors flat', () => {
  const shape: VolumeShape = [4, 4, 4];
  const c = randomRayCase(3, shape, 50, 50);
  const vol = tf.tensor3d(c.volume, [...shape]);
  const s = tf.tensor2d(c.source, [50, 3]);
  const t = tf.tensor2d(c.target, [50, 3]);
  const step = () => tf.dispose(tf.grads((d: tf.Tensor, a: tf.Tensor, b: tf.Tensor) => siddon(d as tf.Tensor3D, a as tf.Tensor2D, b as tf.Tensor2D).sum())([vol, s, t]));
  step();
  const before = tf.memory().numTensors;
  for (let i = 0; i < 20; i++) step();
  expect(tf.memory().numTensors).toBe(before);
  tf.dispose([vol, s, t]);
});
