/**
 * Mutual information: values against a double-precision loop (kornia's Parzen histograms),
 * properties, tf.grad against central finite differences of the float64 reference, errors, memory.
 */
import * as tf from '@tensorflow/tfjs';
import { mutualInformation } from '../../lib/metrics/mutual_information.js';
import { finiteDifferenceGradient, mutualInformationReference, type Shape4 } from '../helpers/metrics_float64.js';
import { maxRelativeError, seededRandom, useCpuBackend } from '../helpers/tf_setup.js';

beforeAll(useCpuBackend);

const random = seededRandom(9);
const randomImages = (shape: Shape4) => Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => random(0.05, 0.95));
const values = (t: tf.Tensor) => { const v = Array.from(t.dataSync()); t.dispose(); return v; };

describe('mutualInformation', () => {
  test('1x1x3x3, 3 bins, by hand: two-level images that agree give MI = H = entropy of the levels', () => {
    // values exactly on bins 0 and 1 with a tiny sigma: each pixel votes for one bin only
    const x = [0, 0, 0, 1, 1, 1, 1, 1, 1];
    const t = tf.tensor4d(x, [1, 1, 3, 3]);
    const h = -(1 / 3) * Math.log2(1 / 3) - (2 / 3) * Math.log2(2 / 3);
    expect(values(mutualInformation(t, t, { numBins: 3, sigma: 0.01, normalize: false }))[0]).toBeCloseTo(h, 5);
    expect(values(mutualInformation(t, t, { numBins: 3, sigma: 0.01 }))[0]).toBeCloseTo(1, 5);
    // independent halves: x1 by rows, x2 by columns of a 2x2 block pattern -> MI = 0
    const u = tf.tensor4d([0, 0, 1, 1], [1, 1, 2, 2]);
    const v = tf.tensor4d([0, 1, 0, 1], [1, 1, 2, 2]);
    expect(values(mutualInformation(u, v, { numBins: 2, sigma: 0.01, normalize: false }))[0]).toBeCloseTo(0, 5);
    tf.dispose([t, u, v]);
  });

  test('per-image scores [B] equal the double loop (B = 3, C = 2; normalized or not; several sigma/bins)', () => {
    const shape: Shape4 = [3, 2, 4, 3];
    const x1 = randomImages(shape), x2 = randomImages(shape);
    const a = tf.tensor4d(x1, shape), b = tf.tensor4d(x2, shape);
    for (const [sigma, numBins] of [[0.1, 16], [0.05, 32], [0.3, 5]]) {
      for (const normalize of [true, false]) {
        const got = values(mutualInformation(a, b, { sigma, numBins, normalize }));
        expect(got.length).toBe(3);
        expect(maxRelativeError(got, mutualInformationReference(x1, x2, shape, sigma, numBins, 1e-10, normalize))).toBeLessThan(1e-4);
      }
    }
    // defaults: sigma 0.1, 256 bins
    expect(maxRelativeError(values(mutualInformation(a, b)), mutualInformationReference(x1, x2, shape, 0.1, 256, 1e-10, true))).toBeLessThan(1e-4);
    tf.dispose([a, b]);
  });

  test('symmetric, and an image shares more information with itself than with noise', () => {
    const shape: Shape4 = [2, 1, 8, 8];
    const a = tf.tensor4d(randomImages(shape), shape), b = tf.tensor4d(randomImages(shape), shape);
    const ab = values(mutualInformation(a, b, { numBins: 32 })), ba = values(mutualInformation(b, a, { numBins: 32 }));
    expect(maxRelativeError(ab, ba)).toBeLessThan(1e-5);
    const aa = values(mutualInformation(a, a, { numBins: 32 }));
    aa.forEach((v, k) => expect(v).toBeGreaterThan(ab[k] + 0.1));
    tf.dispose([a, b]);
  });

  test('tf.grad equals central finite differences of the float64 reference', () => {
    const shape: Shape4 = [2, 1, 3, 4];
    const x1 = randomImages(shape), x2 = randomImages(shape);
    const w = [1.5, -0.5];
    for (const normalize of [true, false]) {
      const [g1, g2] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(mutualInformation(x, y, { numBins: 12, sigma: 0.15, normalize }), w)))([tf.tensor4d(x1, shape), tf.tensor4d(x2, shape)]);
      const f = (u: number[], v: number[]) => mutualInformationReference(u, v, shape, 0.15, 12, 1e-10, normalize).reduce((s, m, k) => s + w[k] * m, 0);
      expect(maxRelativeError(values(g1), finiteDifferenceGradient((v) => f(v, x2), x1))).toBeLessThan(1e-3);
      expect(maxRelativeError(values(g2), finiteDifferenceGradient((v) => f(x1, v), x2))).toBeLessThan(1e-3);
    }
  });

  test('clear errors and numTensors flat', () => {
    const a = tf.zeros([1, 1, 4, 4]);
    expect(() => mutualInformation(a, tf.zeros([1, 1, 4]))).toThrow(/\[B, C, H, W\]/);
    expect(() => mutualInformation(a, tf.zeros([1, 1, 4, 3]))).toThrow(/same shape/);
    expect(() => mutualInformation(a, a, { sigma: 0 })).toThrow(/sigma/);
    expect(() => mutualInformation(a, a, { numBins: 1 })).toThrow(/numBins/);
    expect(() => mutualInformation(a, a, { numBins: 3.5 })).toThrow(/numBins/);
    expect(() => mutualInformation(a, a, { epsilon: -1 })).toThrow(/epsilon/);
    const b = tf.tensor4d(randomImages([2, 1, 5, 5]), [2, 1, 5, 5]);
    const before = tf.memory().numTensors;
    mutualInformation(b, b, { numBins: 16 }).dispose();
    tf.grad((x: tf.Tensor) => tf.sum(mutualInformation(x, b, { numBins: 16 })))(b).dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([a, b]);
  });
});
