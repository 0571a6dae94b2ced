/**
 * The wasm backend runs the same typed-array kernels in place on its heap: on identical inputs the
 * Siddon and Trilinear kernels (forward, gradients; channels; max) give the cpu backend's results
 * to the bit. (DiffDRR's reference cases on wasm: test/reference/diffdrr_wasm.test.ts.)
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { siddon, type SiddonOptions } from '../../lib/ops/siddon.js';
import { trilinear } from '../../lib/ops/trilinear.js';
import { randomRayCase } from '../helpers/random_rays.js';
import { useCpuBackend } from '../helpers/tf_setup.js';

afterAll(useCpuBackend);

const shape: [number, number, number] = [6, 5, 7];
const c = randomRayCase(31, shape, 300, 3);
const labels = Float32Array.from(c.volume, (v) => Math.floor(v * 4));

type Op = 'siddon' | 'trilinear';

/** Values and gradients of sum(w * op) on the active backend (trilinear: also d/d range). */
async function run(op: Op, options: Omit<SiddonOptions, 'mask'>): Promise<Float32Array[]> {
  const channels = options.channels ?? 1;
  const w = tf.tensor2d(Float32Array.from({ length: 300 * channels }, (_, i) => c.weights[i % 300] + i / 1000), [300, channels]);
  const mask = channels > 1 ? tf.tensor3d(labels, shape) : undefined;
  const xs: tf.Tensor[] = [tf.tensor3d(c.volume, shape), tf.tensor2d(c.source, [3, 3]), tf.tensor2d(c.target, [300, 3])];
  if (op === 'trilinear') xs.push(tf.tensor1d([0.1, 0.9]));
  const f = (...[d, s, t, range]: tf.Tensor[]) =>
    op === 'siddon'
      ? siddon(d as tf.Tensor3D, s as tf.Tensor2D, t as tf.Tensor2D, { ...options, mask })
      : trilinear(d as tf.Tensor3D, s as tf.Tensor2D, t as tf.Tensor2D, range as tf.Tensor1D, { nPoints: 40, ...options, mask });
  const value = f(...xs);
  const grads = tf.grads((...args: tf.Tensor[]) => tf.sum(tf.mul(f(...args), w)))(xs);
  const out = await Promise.all([value, ...grads].map(async (t) => (await t.data()) as Float32Array));
  tf.dispose([value, ...grads, ...xs, w, ...(mask ? [mask] : [])]);
  return out;
}

test.each([
  ['siddon', 'sum', {}],
  ['siddon', 'max', { reduce: 'max' }],
  ['siddon', '4 label channels', { channels: 4 }],
  ['trilinear', 'sum', {}],
  ['trilinear', 'max', { reduce: 'max' }],
  ['trilinear', '4 label channels', { channels: 4 }],
] as Array<[Op, string, Omit<SiddonOptions, 'mask'>]>)('%s kernels on wasm = cpu to the bit (%s): values and gradients', async (op, _, options) => {
  await useCpuBackend();
  const cpu = await run(op, options);
  await tf.setBackend('wasm');
  const before = tf.memory().numTensors;
  const wasm = await run(op, options);
  expect(tf.memory().numTensors).toBe(before);
  cpu.forEach((v, i) => expect(Array.from(wasm[i])).toEqual(Array.from(v)));
});
