/**
 * reduce 'max' and labelmap channels: the fused kernel and its analytic gradients equal the
 * tensor-op reference (values and tape gradients), and the channels sum to the plain image.
 */
import * as tf from '@tensorflow/tfjs';
import { siddon, type SiddonOptions } from '../../lib/ops/siddon.js';
import { siddonReference } from '../../lib/renderers/siddon_reference.js';
import { maxRelativeError, seededRandom, useCpuBackend } from '../helpers/tf_setup.js';

beforeAll(useCpuBackend);

const shape: [number, number, number] = [6, 5, 7];
const nRays = 200;
const channels = 4;
const rand = seededRandom(21);
const volume = Float32Array.from({ length: 210 }, () => rand());
const labels = Float32Array.from({ length: 210 }, () => Math.floor(rand(0, channels)));
const point = () => [0, 1, 2].map((a) => rand(-0.6 * shape[a], 1.6 * shape[a]));
const source = Float32Array.from({ length: 3 * nRays }, (_, i) => point()[i % 3]);
const target = Float32Array.from({ length: 3 * nRays }, (_, i) => point()[i % 3]);
const weights = (c: number) => Float32Array.from({ length: nRays * c }, () => rand(-1, 2));

type Render = (d: tf.Tensor3D, s: tf.Tensor2D, t: tf.Tensor2D, o: SiddonOptions) => tf.Tensor2D;

/** Values and gradients of sum(w * render) with respect to density, source and target. */
function run(render: Render, options: SiddonOptions, w: Float32Array): Float32Array[] {
  return tf.tidy(() => {
    const xs = [tf.tensor3d(volume, shape), tf.tensor2d(source, [nRays, 3]), tf.tensor2d(target, [nRays, 3])];
    const mask = options.channels ? tf.tensor3d(labels, shape) : undefined;
    const f = (d: tf.Tensor, s: tf.Tensor, t: tf.Tensor) => render(d as tf.Tensor3D, s as tf.Tensor2D, t as tf.Tensor2D, { ...options, mask });
    const value = f(xs[0], xs[1], xs[2]);
    const wt = tf.tensor2d(w, value.shape as [number, number]);
    const grads = tf.grads((d: tf.Tensor, s: tf.Tensor, t: tf.Tensor) => tf.sum(tf.mul(f(d, s, t), wt)))(xs);
    return [value, ...grads].map((g) => g.dataSync() as Float32Array);
  });
}

test.each([
  ['reduce max', { reduce: 'max' }, 1],
  ['label channels (sum)', { channels }, channels],
  ['label channels with reduce max', { reduce: 'max', channels }, channels],
] as Array<[string, SiddonOptions, number]>)('%s: fused = reference, values and gradients', (_, options, c) => {
  const w = weights(c);
  const fused = run(siddon, options, w);
  const reference = run(siddonReference, options, w);
  ['value', 'd/d density', 'd/d source', 'd/d target'].forEach((name, i) => {
    const err = maxRelativeError(fused[i], reference[i]);
    if (err > 1e-4) throw new Error(`${name}: max error / max = ${err}`);
    expect(fused[i].some((v) => v !== 0)).toBe(true);
  });
});

test('the channels sum to the plain image', () => {
  const [plain, perLabel] = tf.tidy(() => {
    const args = [tf.tensor3d(volume, shape), tf.tensor2d(source, [nRays, 3]), tf.tensor2d(target, [nRays, 3])] as const;
    return [siddon(...args).dataSync(), tf.sum(siddon(...args, { mask: tf.tensor3d(labels, shape), channels }), 1).dataSync()];
  });
  expect(maxRelativeError(perLabel, plain)).toBeLessThan(1e-6);
});

test('bad masks and options get clear errors', () => {
  const d = tf.tensor3d(volume, shape);
  const s = tf.tensor2d(source, [nRays, 3]);
  const t = tf.tensor2d(target, [nRays, 3]);
  expect(() => siddon(d, s, t, { mask: tf.zeros([2, 2, 2]) as tf.Tensor3D, channels: 2 })).toThrow(/mask: expected the density's shape \[6, 5, 7\], got \[2, 2, 2\]/);
  expect(() => siddon(d, s, t, { mask: tf.tensor3d(labels, shape) })).toThrow(/channels: expected a positive integer/);
  expect(() => siddon(d, s, t, { mask: tf.tensor3d(labels, shape), channels: 2 })).toThrow(/mask: label [23] at flat voxel \d+ is not an integer in \[0, 2\)/);
  expect(() => siddon(d, s, t, { reduce: 'min' as 'max' })).toThrow(/reduce: expected 'sum' or 'max', got "min"/);
  tf.dispose([d, s, t]);
});
