/**
 * The multiscale NCC kernels on tf.js's webgpu backend (WGSL, Dawn in Node on lavapipe) against
 * the cpu kernel: global, patches (dividing the image or not), multiscale with weights of both
 * signs, batches and channels, DRR-like and constant images, values within 1e-5 x max and
 * gradients (both images) within 1e-4 x max; the registration loss runs the kernel on webgpu;
 * the gradient NCC and mutual information run their tensor ops there and agree with cpu; tensors
 * stay flat. Every result is awaited and checked for device errors.
 *
 * The whole file skips (printing why) where no WebGPU adapter is available.
 */
import * as tf from '@tensorflow/tfjs';
import '../../kernels/register_all_kernels.js';
import { MultiscaleNcc, MultiscaleNccGrad } from '../../kernels/kernel_names.js';
import { gradientNormalizedCrossCorrelation2d } from '../../lib/metrics/gradient_normalized_cross_correlation.js';
import { multiscaleNormalizedCrossCorrelation2d, type MultiscaleNormalizedCrossCorrelationOptions } from '../../lib/metrics/multiscale_normalized_cross_correlation.js';
import { mutualInformation } from '../../lib/metrics/mutual_information.js';
import { multiscaleNccLoss } from '../../lib/registration/registration_loss.js';
import type { Shape4 } from '../helpers/metrics_float64.js';
import { drrLikeImages, noiseImages } from '../helpers/metric_images.js';
import { webgpuVsCpu, type KernelCall } from '../helpers/webgpu_compare.js';
import { expectNoWebGPUErrors, webgpuTestFile } from '../helpers/webgpu_setup.js';

const { describeWebGPU, title } = await webgpuTestFile();

/** A metric on two images made on the current backend, for `webgpuVsCpu`. */
const metricCall = (metric: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor, x1: number[], x2: number[], shape: Shape4) => (): KernelCall => ({
  inputs: [tf.tensor4d(x1, shape), tf.tensor4d(x2, shape)],
  f: (a, b) => metric(a, b),
  weights: tf.tensor1d(Array.from({ length: shape[0] }, (_, k) => 1 - 0.3 * k)),
});

describeWebGPU(`image metrics on webgpu (${title})`, () => {
  test.each([
    ['global, B = 3, C = 2', [3, 2, 9, 11], { patchSizes: [null], patchWeights: [1] }, 'noise'],
    ['5 px patches not dividing 12 x 13', [2, 1, 12, 13], { patchSizes: [5], patchWeights: [1] }, 'noise'],
    ['4 px patches dividing 12 x 12, C = 2', [1, 2, 12, 12], { patchSizes: [4], patchWeights: [1] }, 'noise'],
    ['multiscale, weights of both signs', [2, 1, 14, 15], { patchSizes: [null, 3, 7, 13], patchWeights: [0.5, 0.3, -0.2, 0.4] }, 'noise'],
    ["DRR-like 48 x 40, the registration's global + 13 px", [2, 1, 48, 40], { patchSizes: [null, 13], patchWeights: [0.5, 0.5] }, 'drr'],
  ] as Array<[string, Shape4, MultiscaleNormalizedCrossCorrelationOptions, string]>)('multiscale NCC, %s: value and both gradients = cpu', async (name, shape, options, kind) => {
    const x1 = kind === 'noise' ? noiseImages(41, shape) : drrLikeImages(41, shape);
    const x2 = kind === 'noise' ? noiseImages(42, shape).map((v, k) => 0.6 * x1[k] + v) : drrLikeImages(42, shape, 2);
    const [value, g1, g2] = await webgpuVsCpu(metricCall((a, b) => multiscaleNormalizedCrossCorrelation2d(a, b, options), x1, x2, shape));
    console.log(`webgpu vs cpu, multiscale NCC ${name}: max|diff|/max: value ${value.toExponential(1)}, d x1 ${g1.toExponential(1)}, d x2 ${g2.toExponential(1)}`);
    expect(value).toBeLessThanOrEqual(1e-5);
    expect(g1).toBeLessThanOrEqual(1e-4);
    expect(g2).toBeLessThanOrEqual(1e-4);
  });

  test('the metric runs the webgpu kernels (forward, then the gradient kernel), no tensor ops; constant images give 0; tensors flat', async () => {
    await tf.setBackend('webgpu');
    const shape: Shape4 = [2, 1, 16, 15];
    const a = tf.tensor4d(noiseImages(43, shape), shape);
    const flat = tf.fill(shape, 3);
    const options = { patchSizes: [null, 3], patchWeights: [0.5, 0.5] };
    const profile = await tf.profile(async () => {
      const g = tf.grad((u: tf.Tensor) => tf.sum(multiscaleNormalizedCrossCorrelation2d(u, flat, options)))(a);
      await g.data();
      g.dispose();
    });
    const names = profile.kernels.map((k) => k.name);
    expect(names).toContain(MultiscaleNcc);
    expect(names).toContain(MultiscaleNccGrad);
    expect(names).not.toContain('Conv2D');
    const score = multiscaleNormalizedCrossCorrelation2d(flat, a, options);
    expect(Array.from(await score.data())).toEqual([0, 0]);
    score.dispose();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) {
      const g = tf.grad((u: tf.Tensor) => tf.sum(multiscaleNccLoss()(u as tf.Tensor4D, a)))(a);
      await g.data();
      g.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    expectNoWebGPUErrors();
    tf.dispose([a, flat]);
  });

  test('gradient NCC and mutual information (tensor ops on webgpu) = the cpu kernels', async () => {
    const shape: Shape4 = [2, 1, 10, 11];
    const x1 = noiseImages(44, shape), x2 = noiseImages(45, shape).map((v, k) => 0.5 * x1[k] + 0.5 * v);
    const gncc = await webgpuVsCpu(metricCall((a, b) => gradientNormalizedCrossCorrelation2d(a, b, { patchSize: 5 }), x1, x2, shape));
    const mi = await webgpuVsCpu(metricCall((a, b) => mutualInformation(a, b, { numBins: 32 }), x1, x2, shape));
    console.log(`webgpu (tensor ops) vs cpu kernels: gradient NCC ${gncc.map((e) => e.toExponential(1)).join(', ')}; MI ${mi.map((e) => e.toExponential(1)).join(', ')}`);
    expect(gncc[0]).toBeLessThanOrEqual(1e-5);
    expect(Math.max(gncc[1], gncc[2])).toBeLessThanOrEqual(1e-4);
    expect(mi[0]).toBeLessThanOrEqual(1e-5);
    expect(Math.max(mi[1], mi[2])).toBeLessThanOrEqual(1e-4);
  });
});
