/** Issue #17 for the metrics: unknown option keys and disposed images are named. */
import * as tf from '@tensorflow/tfjs';
import { gradientNormalizedCrossCorrelation2d } from '../../lib/metrics/gradient_normalized_cross_correlation.js';
import { multiscaleNormalizedCrossCorrelation2d } from '../../lib/metrics/multiscale_normalized_cross_correlation.js';
import { mutualInformation } from '../../lib/metrics/mutual_information.js';
import { normalizedCrossCorrelation2d } from '../../lib/metrics/normalized_cross_correlation.js';
import { useCpuBackend } from '../helpers/tf_setup.js';

beforeAll(useCpuBackend);

const image = () => tf.randomUniform([1, 1, 8, 8], 0, 1, 'float32', 3);

test.each([
  ['normalizedCrossCorrelation2d', (a: tf.Tensor, b: tf.Tensor) => normalizedCrossCorrelation2d(a, b, { patchsize: 4 } as object), /^normalizedCrossCorrelation2d: unknown option 'patchsize' \(did you mean 'patchSize'\? known: patchSize, eps, implementation\)$/],
  ['multiscaleNormalizedCrossCorrelation2d', (a: tf.Tensor, b: tf.Tensor) => multiscaleNormalizedCrossCorrelation2d(a, b, { patchSize: 4 } as object), /^multiscaleNormalizedCrossCorrelation2d: unknown option 'patchSize' \(did you mean 'patchSizes'\? known: patchSizes, patchWeights, eps, implementation\)$/],
  ['gradientNormalizedCrossCorrelation2d', (a: tf.Tensor, b: tf.Tensor) => gradientNormalizedCrossCorrelation2d(a, b, { kernel_size: 3 } as object), /^gradientNormalizedCrossCorrelation2d: unknown option 'kernel_size' \(did you mean 'kernelSize'\? known: patchSize, sigma, kernelSize, eps, implementation\)$/],
  ['mutualInformation', (a: tf.Tensor, b: tf.Tensor) => mutualInformation(a, b, { bins: 32 } as object), /^mutualInformation: unknown option 'bins' \(known: sigma, numBins, epsilon, normalize, implementation\)$/],
] as Array<[string, (a: tf.Tensor, b: tf.Tensor) => unknown, RegExp]>)('%s rejects an unknown option (was: silently ignored)', (_, metric, message) => {
  const [a, b] = [image(), image()];
  expect(() => metric(a, b)).toThrow(message);
  tf.dispose([a, b]);
});

test('a disposed image is named (was: Cannot read properties of undefined)', () => {
  const [a, b] = [image(), image()];
  b.dispose();
  expect(() => normalizedCrossCorrelation2d(a, b)).toThrow(/^normalizedCrossCorrelation2d: x2: the tensor \(shape \[1, 1, 8, 8\]\) has been disposed; pass a live tensor$/);
  a.dispose();
});
