/**
 * Siddon on awkward rays: misses give 0 and zero gradients (never NaN); rays parallel to voxel
 * planes, rays starting inside, and a 1-voxel-thick volume give the reference's values and
 * gradients.
 */
import * as tf from '@tensorflow/tfjs';
import { siddon } from '../../lib/ops/siddon.js';
import { siddonReference } from '../../lib/renderers/siddon_reference.js';
import { randomRayCase } from '../helpers/random_rays.js';
import { maxRelativeError, useCpuBackend } from '../helpers/tf_setup.js';

beforeAll(useCpuBackend);

type Render = typeof siddon;

/** Value and gradients of sum(render) w.r.t. density, source, target. */
function valueAndGrads(render: Render, volume: Float32Array, shape: [number, number, number], source: number[][], target: number[][]): Float32Array[] {
  return tf.tidy(() => {
    const xs = [tf.tensor3d(volume, shape), tf.tensor2d(source), tf.tensor2d(target)];
    const f = (d: tf.Tensor, s: tf.Tensor, t: tf.Tensor) => render(d as tf.Tensor3D, s as tf.Tensor2D, t as tf.Tensor2D).sum();
    const value = render(xs[0] as tf.Tensor3D, xs[1] as tf.Tensor2D, xs[2] as tf.Tensor2D);
    return [value, ...tf.grads(f)(xs)].map((g) => g.dataSync() as Float32Array);
  });
}

const shape: [number, number, number] = [4, 5, 6];
const volume = randomRayCase(3, shape, 1).volume;

test('rays whose lines miss the volume give 0 and zero gradients, never NaN', () => {
  // (the renderer integrates the whole line, as DiffDRR: a segment that stops short of the
  // volume still sees it if its line passes through)
  const source = [[-10, -10, -10], [10, 2, -10], [2, 20, 20], [-3, -3, 2]];
  const target = [[-10, 30, -10], [30, 2, -10], [2, 40, 20], [-3, 9, 2]];
  for (const render of [siddon, siddonReference]) {
    const [value, dDensity, dSource, dTarget] = valueAndGrads(render, volume, shape, source, target);
    expect(Array.from(value)).toEqual([0, 0, 0, 0]);
    for (const g of [dDensity, dSource, dTarget]) expect(g.every((v) => v === 0)).toBe(true);
  }
});

test.each([
  ['parallel to the x planes (d_x = 0)', [[1.2, -3, 2.7]], [[1.2, 8, 3.9]]],
  ['parallel to two axes (along z only)', [[1.3, 2.6, -4]], [[1.3, 2.6, 9]]],
  ['on a voxel plane and parallel to it', [[1.5, -3, 2.2]], [[1.5, 8, 3.1]]],
  ['starting inside the volume', [[1.7, 2.2, 2.9]], [[9, -4, 7]]],
  ['ending inside the volume', [[-6, 9, -3]], [[2.1, 1.4, 3.3]]],
  ['source and target inside', [[0.2, 0.3, 0.4]], [[3.1, 4.2, 5.1]]],
])('%s: fused = reference, values and gradients, all finite', (_, source, target) => {
  const fused = valueAndGrads(siddon, volume, shape, source, target);
  const reference = valueAndGrads(siddonReference, volume, shape, source, target);
  fused.forEach((v, i) => {
    expect(v.every(Number.isFinite)).toBe(true);
    expect(maxRelativeError(v, reference[i])).toBeLessThan(1e-4);
  });
  expect(fused[0][0]).toBeGreaterThan(0);
});

test.each([
  ['1 voxel thick in x', [1, 6, 7] as [number, number, number]],
  ['1 voxel thick in z', [6, 7, 1] as [number, number, number]],
  ['a single voxel', [1, 1, 1] as [number, number, number]],
])('%s: fused = reference on random rays, values and gradients', (_, thin) => {
  const c = randomRayCase(9, thin, 200);
  const toRows = (a: Float32Array) => Array.from({ length: a.length / 3 }, (_, i) => Array.from(a.subarray(3 * i, 3 * i + 3)));
  const fused = valueAndGrads(siddon, c.volume, thin, toRows(c.source), toRows(c.target));
  const reference = valueAndGrads(siddonReference, c.volume, thin, toRows(c.source), toRows(c.target));
  fused.forEach((v, i) => expect(maxRelativeError(v, reference[i])).toBeLessThan(1e-4));
  expect(fused[0].some((v) => v > 0)).toBe(true);
});
