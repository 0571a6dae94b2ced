/**
 * The fused gradient NCC kernel (`GradientNcc`: Gaussian blur, Sobel, NCC, and their adjoints)
 * against its oracles: the tensor-op metric (`implementation: 'reference'`) to 1e-5 in value and
 * 1e-4 in gradient, and the float64 loops (values; gradients by central differences), on random
 * and DRR-like images, global and patches (dividing the image or not), with and without the blur;
 * constant images; the wasm backend against cpu.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { GradientNcc, GradientNccGrad, ImageScaleGradient } from '../../kernels/kernel_names.js';
import {
  gradientNormalizedCrossCorrelation2d, gradientNormalizedCrossCorrelation2dReference, type GradientNormalizedCrossCorrelationOptions,
} from '../../lib/metrics/gradient_normalized_cross_correlation.js';
import { finiteDifferenceGradient, nccReference, sobelReference, type Shape4 } from '../helpers/metrics_float64.js';
import { allFinite, drrLikeImages, imageTensor, noiseImages, valuesOf } from '../helpers/metric_images.js';
import { maxRelativeError, useCpuBackend } from '../helpers/tf_setup.js';

beforeAll(useCpuBackend);
afterAll(useCpuBackend);

type Options = Omit<GradientNormalizedCrossCorrelationOptions, 'implementation'>;

/** The float64 loops' score per image. */
function float64Scores(x1: number[], x2: number[], shape: Shape4, o: Options): number[] {
  const [sigma, kernelSize] = [o.sigma ?? 1, o.kernelSize ?? 5];
  const gradShape: Shape4 = [shape[0], 2 * shape[1], shape[2], shape[3]];
  return nccReference(sobelReference(x1, shape, sigma, kernelSize), sobelReference(x2, shape, sigma, kernelSize), gradShape, o.patchSize ?? null, o.eps ?? 1e-5);
}

/** The options less `implementation` (what the reference takes). */
function withoutImplementation<T extends { implementation?: unknown }>({ implementation: _, ...rest }: T): Omit<T, 'implementation'> {
  return rest;
}

/** Scores and gradients (of `sum_b w_b score_b`, both images) on the active backend. */
function scoresAndGradients(options: GradientNormalizedCrossCorrelationOptions, x1: number[], x2: number[], shape: Shape4): number[][] {
  const metric = (a: tf.Tensor, b: tf.Tensor) =>
    options.implementation === 'reference' ? gradientNormalizedCrossCorrelation2dReference(a, b, withoutImplementation(options)) : gradientNormalizedCrossCorrelation2d(a, b, options);
  const a = imageTensor(x1, shape), b = imageTensor(x2, shape);
  const w = tf.tensor1d(Array.from({ length: shape[0] }, (_, k) => 1 - 0.4 * k));
  const value = valuesOf(metric(a, b));
  const [g1, g2] = tf.grads((u: tf.Tensor, v: tf.Tensor) => tf.sum(tf.mul(metric(u, v), w)))([a, b]);
  const out = [value, valuesOf(g1), valuesOf(g2)];
  tf.dispose([a, b, w]);
  return out;
}

describe('fused gradient NCC against the tensor-op metric and the float64 loops', () => {
  const cases: Array<[string, Shape4, Options, 'noise' | 'drr']> = [
    ['global, blur 1 (k = 5), B = 2', [2, 1, 7, 8], {}, 'noise'],
    ['3 px patches, no blur', [1, 1, 6, 9], { patchSize: 3, sigma: 0 }, 'noise'],
    ['4 px patches not dividing 9 x 10, blur 0.7 (k = 3), C = 2', [2, 2, 9, 10], { patchSize: 4, sigma: 0.7, kernelSize: 3 }, 'noise'],
    ['global, blur 2 with 7 taps (reflection reaches 3 rows in)', [1, 1, 8, 7], { sigma: 2, kernelSize: 7 }, 'noise'],
    ['DRR-like 32 x 30, 11 px patches, blur 1', [2, 1, 32, 30], { patchSize: 11 }, 'drr'],
  ];

  test.each(cases)('%s: values to 1e-5 (oracle) and 1e-6 (float64); gradients to 1e-4 (oracle, central differences)', (_, shape, options, kind) => {
    const x1 = kind === 'noise' ? noiseImages(21, shape) : drrLikeImages(21, shape);
    const x2 = kind === 'noise' ? noiseImages(22, shape).map((v, k) => 0.5 * x1[k] + v) : drrLikeImages(22, shape, 2);
    const [value, g1, g2] = scoresAndGradients({ ...options, implementation: 'fused' }, x1, x2, shape);
    const [refValue, refG1, refG2] = scoresAndGradients({ ...options, implementation: 'reference' }, x1, x2, shape);
    expect(maxRelativeError(value, refValue)).toBeLessThan(1e-5);
    expect(maxRelativeError(value, float64Scores(x1, x2, shape, options))).toBeLessThan(1e-6);
    // On the DRR-like images (Sobel values in the hundreds, 11 px patches) the tensor ops' float32
    // box sums put their own gradient 1.1e-4 off the float64 central differences, which the fused
    // gradient meets to 1e-5 (checked below on the pixels where the two differ most).
    const oracleTolerance = kind === 'drr' ? 2e-4 : 1e-4;
    expect(maxRelativeError(g1, refG1)).toBeLessThan(oracleTolerance);
    expect(maxRelativeError(g2, refG2)).toBeLessThan(oracleTolerance);
    const w = Array.from({ length: shape[0] }, (_, k) => 1 - 0.4 * k);
    const f = (u: number[], v: number[]) => float64Scores(u, v, shape, options).reduce((s, m, b) => s + w[b] * m, 0);
    if (shape.reduce((a, b) => a * b, 1) <= 400) {
      expect(maxRelativeError(g1, finiteDifferenceGradient((u) => f(u, x2), x1))).toBeLessThan(1e-4);
      expect(maxRelativeError(g2, finiteDifferenceGradient((v) => f(x1, v), x2))).toBeLessThan(1e-4);
    } else {
      const scale = Math.max(...g2.map(Math.abs));
      const worst = g2.map((_, k) => k).sort((i, j) => Math.abs(g2[j] - refG2[j]) - Math.abs(g2[i] - refG2[i])).slice(0, 12);
      for (const k of worst) {
        const h = 1e-5;
        const [plus, minus] = [x2.slice(), x2.slice()];
        plus[k] += h;
        minus[k] -= h;
        expect(Math.abs(g2[k] - (f(x1, plus) - f(x1, minus)) / (2 * h)) / scale).toBeLessThan(2e-5);
      }
    }
  });

  test('constant images: the tensor ops\' values and gradients, finite; with eps 0 a flat patch counts 0 where the tensor ops give NaN', () => {
    const shape: Shape4 = [1, 1, 8, 8];
    const flat = new Array<number>(64).fill(2.5);
    const other = noiseImages(23, shape);
    // a constant image has Sobel gradients only at its (zero-padded) border: not flat, so compare patches inside too
    for (const options of [{}, { patchSize: 3 }, { patchSize: 3, sigma: 0 }] as Options[]) {
      const [value, g1, g2] = scoresAndGradients({ ...options, implementation: 'fused' }, flat, other, shape);
      const [refValue, refG1, refG2] = scoresAndGradients({ ...options, implementation: 'reference' }, flat, other, shape);
      expect(allFinite(value) && allFinite(g1) && allFinite(g2)).toBe(true);
      expect(maxRelativeError(value, refValue)).toBeLessThan(1e-5);
      expect(maxRelativeError(g1, refG1)).toBeLessThan(1e-4);
      expect(maxRelativeError(g2, refG2)).toBeLessThan(1e-4);
    }
    const [value, g1] = scoresAndGradients({ patchSize: 3, eps: 0, implementation: 'fused' }, flat, other, shape);
    const [refValue] = scoresAndGradients({ patchSize: 3, eps: 0, implementation: 'reference' }, flat, other, shape);
    expect(refValue.some(Number.isNaN)).toBe(true);
    expect(allFinite(value) && allFinite(g1)).toBe(true);
  });

  test('the forward pass finds the gradient (one kernel call each way), equal to the gradient kernel to the bit', async () => {
    const shape: Shape4 = [2, 1, 12, 11];
    const a = imageTensor(drrLikeImages(24, shape), shape), b = imageTensor(drrLikeImages(25, shape, 1), shape);
    const f = (u: tf.Tensor, v: tf.Tensor) => tf.sum(tf.mul(gradientNormalizedCrossCorrelation2d(u, v, { patchSize: 5 }), [1, -2]));
    const [fromForward] = tf.grads((u: tf.Tensor) => f(u, b))([a]);
    const [, fromKernel] = tf.grads((u: tf.Tensor, v: tf.Tensor) => f(u, v))([b, a]);
    expect(valuesOf(fromForward)).toEqual(valuesOf(fromKernel));
    const profile = await tf.profile(() => tf.grad((u: tf.Tensor) => f(u, b))(a));
    const names = profile.kernels.map((k) => k.name);
    expect(names.filter((n) => n === GradientNcc).length).toBe(1);
    expect(names).toContain(ImageScaleGradient);
    expect(names).not.toContain(GradientNccGrad);
    expect(names).not.toContain('Conv2D');
    const before = tf.memory().numTensors;
    tf.dispose(tf.grads((u: tf.Tensor, v: tf.Tensor) => f(u, v))([a, b]));
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([a, b, profile.result as tf.Tensor]);
  });

  test('wasm: values and gradients equal cpu to the bit', async () => {
    const shape: Shape4 = [2, 2, 11, 9];
    const x1 = drrLikeImages(26, shape), x2 = drrLikeImages(27, shape, 1);
    for (const options of [{ patchSize: 4 }, { sigma: 0 }] as Options[]) {
      await useCpuBackend();
      const cpu = scoresAndGradients({ ...options, implementation: 'fused' }, x1, x2, shape);
      await tf.setBackend('wasm');
      const wasm = scoresAndGradients({ ...options, implementation: 'fused' }, x1, x2, shape);
      await useCpuBackend();
      wasm.forEach((v, i) => expect(v).toEqual(cpu[i]));
    }
  });
});
