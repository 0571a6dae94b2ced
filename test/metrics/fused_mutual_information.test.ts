/**
 * The fused mutual information kernel (`MutualInformation`: Parzen histograms in double
 * precision, an analytic gradient) against its oracles: the tensor-op metric
 * (`implementation: 'reference'`) to 1e-5 in value and 1e-4 in gradient, and the float64 loop of
 * test/helpers/metrics_float64.ts (values; gradients by central differences), normalized or not,
 * for several bin counts and widths (the default 256 bins included), on random and DRR-like
 * images (scaled into [0, 1]), batches and channels; constant images; images far outside [0, 1]
 * (every vote 0: a defined 0 where the tensor ops give NaN); the wasm backend against cpu.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { ImageScaleGradient, MutualInformation, MutualInformationGrad } from '../../kernels/kernel_names.js';
import { mutualInformation, mutualInformationReference, type MutualInformationOptions } from '../../lib/metrics/mutual_information.js';
import { finiteDifferenceGradient, mutualInformationReference as mutualInformationFloat64, type Shape4 } from '../helpers/metrics_float64.js';
import { allFinite, drrLikeImages, imageTensor, noiseImages, valuesOf } from '../helpers/metric_images.js';
import { maxRelativeError, useCpuBackend } from '../helpers/tf_setup.js';

beforeAll(useCpuBackend);
afterAll(useCpuBackend);

type Options = Required<Omit<MutualInformationOptions, 'implementation'>>;
const DEFAULTS: Options = { sigma: 0.1, numBins: 256, epsilon: 1e-10, normalize: true };

/** The options less `implementation` (what the reference takes). */
function withoutImplementation<T extends { implementation?: unknown }>({ implementation: _, ...rest }: T): Omit<T, 'implementation'> {
  return rest;
}

/** Scores and gradients (of `sum_b w_b score_b`, both images) on the active backend. */
function scoresAndGradients(options: MutualInformationOptions, x1: number[], x2: number[], shape: Shape4): number[][] {
  const metric = (a: tf.Tensor, b: tf.Tensor) =>
    options.implementation === 'reference' ? mutualInformationReference(a, b, withoutImplementation(options)) : mutualInformation(a, b, options);
  const a = imageTensor(x1, shape), b = imageTensor(x2, shape);
  const w = tf.tensor1d(Array.from({ length: shape[0] }, (_, k) => 1.5 - k));
  const value = valuesOf(metric(a, b));
  const [g1, g2] = tf.grads((u: tf.Tensor, v: tf.Tensor) => tf.sum(tf.mul(metric(u, v), w)))([a, b]);
  const out = [value, valuesOf(g1), valuesOf(g2)];
  tf.dispose([a, b, w]);
  return out;
}

/** DRR-like images scaled into [0.05, 0.95]. */
function drrLikeUnit(seed: number, shape: Shape4, shift = 0): number[] {
  return drrLikeImages(seed, shape, shift).map((v) => 0.05 + (0.9 * (v - 40)) / 46);
}

describe('fused mutual information against the tensor-op metric and the float64 loop', () => {
  const cases: Array<[string, Shape4, Partial<Options>, 'noise' | 'drr']> = [
    ['16 bins, sigma 0.1, B = 2', [2, 1, 4, 5], { numBins: 16 }, 'noise'],
    ['not normalized, 12 bins, sigma 0.15, C = 2', [2, 2, 3, 3], { numBins: 12, sigma: 0.15, normalize: false }, 'noise'],
    ['narrow votes: 64 bins, sigma 0.02', [1, 1, 5, 6], { numBins: 64, sigma: 0.02 }, 'noise'],
    ['defaults (256 bins, sigma 0.1), DRR-like 16 x 15', [2, 1, 16, 15], {}, 'drr'],
  ];

  test.each(cases)('%s: values to 1e-5 (oracle, float64); gradients to 1e-4 (oracle, central differences)', (_, shape, given, kind) => {
    const options = { ...DEFAULTS, ...given };
    const x1 = kind === 'noise' ? noiseImages(31, shape, 0.05, 0.95) : drrLikeUnit(31, shape);
    const x2 = kind === 'noise' ? noiseImages(32, shape, 0, 0.5).map((v, k) => 0.5 * x1[k] + v) : drrLikeUnit(32, shape, 2);
    const [value, g1, g2] = scoresAndGradients({ ...options, implementation: 'fused' }, x1, x2, shape);
    const [refValue, refG1, refG2] = scoresAndGradients({ ...options, implementation: 'reference' }, x1, x2, shape);
    const float64 = (u: number[], v: number[]) => mutualInformationFloat64(u, v, shape, options.sigma, options.numBins, options.epsilon, options.normalize);
    expect(maxRelativeError(value, refValue)).toBeLessThan(1e-5);
    expect(maxRelativeError(value, float64(x1, x2))).toBeLessThan(1e-6);
    expect(maxRelativeError(g1, refG1)).toBeLessThan(1e-4);
    expect(maxRelativeError(g2, refG2)).toBeLessThan(1e-4);
    if (shape.reduce((a, b) => a * b, 1) <= 40) {
      const w = Array.from({ length: shape[0] }, (_, k) => 1.5 - k);
      const f = (u: number[], v: number[]) => float64(u, v).reduce((s, m, b) => s + w[b] * m, 0);
      expect(maxRelativeError(g1, finiteDifferenceGradient((u) => f(u, x2), x1))).toBeLessThan(1e-4);
      expect(maxRelativeError(g2, finiteDifferenceGradient((v) => f(x1, v), x2))).toBeLessThan(1e-4);
    }
  });

  test('constant images: the tensor ops\' value, finite gradients within 1e-7 of the tensor ops\' and of central differences', () => {
    // At a constant image the gradient is tiny (at most 7e-5 here, 1e-8 with both images flat), so
    // float32 rounding dominates the tensor ops' (6e-4 of it, relative): compared in absolute terms.
    const shape: Shape4 = [1, 1, 6, 6];
    const flat = new Array<number>(36).fill(0.4);
    const maxAbs = (a: number[], b: number[]) => Math.max(...a.map((v, k) => Math.abs(v - b[k])));
    for (const [u, v] of [[flat, noiseImages(33, shape)], [flat, flat.map(() => 0.7)]]) {
      for (const normalize of [true, false]) {
        const options = { ...DEFAULTS, numBins: 32, normalize };
        const [value, g1, g2] = scoresAndGradients({ ...options, implementation: 'fused' }, u, v, shape);
        const [refValue, refG1, refG2] = scoresAndGradients({ ...options, implementation: 'reference' }, u, v, shape);
        expect(allFinite(value) && allFinite(g1) && allFinite(g2)).toBe(true);
        // with both images flat MI is 0 up to rounding: absolute
        expect(maxAbs(value, refValue)).toBeLessThan(1e-5);
        expect(maxAbs(g1, refG1)).toBeLessThan(1e-7);
        expect(maxAbs(g2, refG2)).toBeLessThan(1e-7);
        const f = (x: number[]) => 1.5 * mutualInformationFloat64(x, v, shape, 0.1, 32, 1e-10, normalize)[0];
        expect(maxAbs(g1, finiteDifferenceGradient(f, u))).toBeLessThan(1e-7);
      }
    }
  });

  test('images far outside [0, 1] (every vote 0): normalized 0 with a zero gradient where the tensor ops give NaN; MI 0', () => {
    const shape: Shape4 = [1, 1, 4, 4];
    const far = noiseImages(34, shape, 40, 80);
    const [value, g1, g2] = scoresAndGradients({ numBins: 16, implementation: 'fused' }, far, far, shape);
    expect(value).toEqual([0]);
    for (const g of [g1, g2]) expect(g.every((v) => v === 0)).toBe(true);
    const [refValue] = scoresAndGradients({ numBins: 16, implementation: 'reference' }, far, far, shape);
    expect(refValue.every(Number.isNaN)).toBe(true);
    expect(scoresAndGradients({ numBins: 16, normalize: false, implementation: 'fused' }, far, far, shape)[0]).toEqual([0]);
  });

  test('the forward pass finds the gradient (one kernel call each way), equal to the gradient kernel to the bit; numTensors flat', async () => {
    const shape: Shape4 = [2, 1, 6, 5];
    const a = imageTensor(noiseImages(35, shape), shape), b = imageTensor(noiseImages(36, shape), shape);
    const f = (u: tf.Tensor, v: tf.Tensor) => tf.sum(tf.mul(mutualInformation(u, v, { numBins: 24 }), [1, -0.5]));
    const [fromForward] = tf.grads((u: tf.Tensor) => f(u, b))([a]);
    const [, fromKernel] = tf.grads((u: tf.Tensor, v: tf.Tensor) => f(u, v))([b, a]);
    expect(valuesOf(fromForward)).toEqual(valuesOf(fromKernel));
    const profile = await tf.profile(() => tf.grad((u: tf.Tensor) => f(u, b))(a));
    const names = profile.kernels.map((k) => k.name);
    expect(names.filter((n) => n === MutualInformation).length).toBe(1);
    expect(names).toContain(ImageScaleGradient);
    expect(names).not.toContain(MutualInformationGrad);
    expect(names).not.toContain('BatchMatMul');
    const before = tf.memory().numTensors;
    tf.dispose(tf.grads((u: tf.Tensor, v: tf.Tensor) => f(u, v))([a, b]));
    mutualInformation(a, b).dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([a, b, profile.result as tf.Tensor]);
  });

  test('wasm: values and gradients equal cpu to the bit', async () => {
    const shape: Shape4 = [2, 2, 5, 4];
    const x1 = noiseImages(37, shape), x2 = noiseImages(38, shape);
    await useCpuBackend();
    const cpu = scoresAndGradients({ numBins: 32, implementation: 'fused' }, x1, x2, shape);
    await tf.setBackend('wasm');
    const wasm = scoresAndGradients({ numBins: 32, implementation: 'fused' }, x1, x2, shape);
    await useCpuBackend();
    wasm.forEach((v, i) => expect(v).toEqual(cpu[i]));
  });
});
