/**
 * The fused image similarity ops: each validates its images and attributes and runs its kernel
 * (`MultiscaleNcc`, `GradientNcc`, `MutualInformation`; kernels/kernel_names.ts) on the active
 * backend. The metrics of lib/metrics call them where the kernel is registered (their
 * `implementation` option), and their tensor-op versions elsewhere.
 */
import * as tf from '@tensorflow/tfjs';
import {
  GradientNcc, ImageScaleGradient, MultiscaleNcc, MutualInformation,
  type GradientNccAttrs, type MultiscaleNccAttrs, type MultiscaleNccInputs, type MutualInformationAttrs,
} from '../../kernels/kernel_names.js';
import { checkImagePair } from '../metrics/images.js';

/** Whether the active backend (or `backendName`) has the fused kernel `kernelName`. */
export function hasFusedKernel(kernelName: string, backendName: string = tf.getBackend()): boolean {
  return tf.getKernel(kernelName, backendName) != null;
}

/**
 * Whether a metric's forward should also find its gradient (`withGradient`): while a gradient
 * tape records, on a backend that has the kernel that applies it (`ImageScaleGradient`: cpu and
 * wasm). The gradient is the images' size, as the backward pass's own output would be.
 */
function wantsGradient(): boolean {
  return tf.engine().isTapeOn() && hasFusedKernel(ImageScaleGradient);
}

/** Runs the metric kernel `kernelName` on the checked images: `[B]`. */
function runMetric(kernelName: string, metric: string, x1: tf.Tensor, x2: tf.Tensor, attrs: object): tf.Tensor1D {
  const [a, b] = checkImagePair(x1, x2, metric);
  if (!hasFusedKernel(kernelName)) throw new Error(`${metric}: no fused kernel ${kernelName} is registered for backend '${tf.getBackend()}' (use implementation: 'reference')`);
  const inputs = { x1: a, x2: b } satisfies MultiscaleNccInputs as unknown as tf.NamedTensorMap;
  if (!wantsGradient()) return tf.engine().runKernel(kernelName, inputs, attrs as tf.NamedAttrMap) as tf.Tensor1D;
  return tf.tidy(() => {
    // the tape keeps its own copy of the second output (the gradient) for the backward pass
    const [score] = tf.engine().runKernel(kernelName, inputs, { ...attrs, withGradient: true } as tf.NamedAttrMap) as tf.Tensor[];
    return score as tf.Tensor1D;
  });
}

/** Throws unless `value` is a finite number. */
function checkFinite(value: unknown, name: string, metric: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error(`${metric}: ${name}: expected a finite number, got ${String(value)}`);
}

/** Throws unless `p` is 0 (the whole image) or an integer in `[1, min(H, W)]`. */
function checkPatch(p: unknown, x: tf.Tensor, name: string, metric: string): void {
  const side = Math.min(x.shape[2] ?? 0, x.shape[3] ?? 0);
  if (!(Number.isInteger(p) && (p as number) >= 0 && (p as number) <= side)) {
    throw new Error(`${metric}: ${name}: expected 0 (the whole image) or an integer in [1, ${side}], got ${String(p)}`);
  }
}

/**
 * The weighted sum of NCCs of `x1` and `x2` (`[B, C, H, W]`, float32, the same shape) at several
 * patch sizes, in the fused `MultiscaleNcc` kernel: `[B]`, differentiable in both images.
 *
 * ```js
 * const score = tfdrr.multiscaleNcc(drr, target, { patchSizes: [0, 13], patchWeights: [0.5, 0.5], eps: 1e-5 });
 * ```
 *
 * @param attrs `patchSizes` (0: the whole image, else the side of the patches, stride 1),
 *   `patchWeights` (one per patch size) and `eps` (added to each variance), as
 *   `multiscaleNormalizedCrossCorrelation2d` takes them (which validates them with clearer messages).
 */
export function multiscaleNcc(x1: tf.Tensor, x2: tf.Tensor, attrs: Omit<MultiscaleNccAttrs, 'withGradient'>): tf.Tensor1D {
  const metric = 'multiscaleNcc';
  const { patchSizes, patchWeights, eps } = attrs;
  if (!Array.isArray(patchSizes) || patchSizes.length === 0 || !Array.isArray(patchWeights) || patchWeights.length !== patchSizes.length) {
    throw new Error(`${metric}: expected non-empty patchSizes and one patchWeights entry per patch size`);
  }
  patchSizes.forEach((p, k) => checkPatch(p, x1, `patchSizes[${k}]`, metric));
  patchWeights.forEach((w, k) => checkFinite(w, `patchWeights[${k}]`, metric));
  if (!(eps >= 0 && Number.isFinite(eps))) throw new Error(`${metric}: eps: expected a finite number >= 0, got ${String(eps)}`);
  return runMetric(MultiscaleNcc, metric, x1, x2, { patchSizes: [...patchSizes], patchWeights: [...patchWeights], eps } satisfies MultiscaleNccAttrs);
}

/**
 * The NCC of the blurred Sobel gradients of `x1` and `x2` (`[B, C, H, W]`), in the fused
 * `GradientNcc` kernel: `[B]`, differentiable in both images.
 *
 * @param attrs `patchSize` (0: the whole image), `sigma` (0: no blur), `kernelSize` (odd) and
 *   `eps`, as `gradientNormalizedCrossCorrelation2d` takes them (which validates them with clearer messages).
 */
export function gradientNcc(x1: tf.Tensor, x2: tf.Tensor, attrs: Omit<GradientNccAttrs, 'withGradient'>): tf.Tensor1D {
  const metric = 'gradientNcc';
  const { patchSize, sigma, kernelSize, eps } = attrs;
  checkPatch(patchSize, x1, 'patchSize', metric);
  if (!(sigma >= 0 && Number.isFinite(sigma))) throw new Error(`${metric}: sigma: expected a finite number >= 0, got ${String(sigma)}`);
  if (!(Number.isInteger(kernelSize) && kernelSize >= 1 && kernelSize % 2 === 1)) throw new Error(`${metric}: kernelSize: expected an odd integer >= 1, got ${String(kernelSize)}`);
  if (sigma > 0 && (kernelSize - 1) / 2 >= Math.min(x1.shape[2] ?? 0, x1.shape[3] ?? 0)) {
    throw new Error(`${metric}: kernelSize: ${kernelSize} needs images of at least ${(kernelSize + 1) / 2} pixels a side (reflect padding)`);
  }
  if (!(eps >= 0 && Number.isFinite(eps))) throw new Error(`${metric}: eps: expected a finite number >= 0, got ${String(eps)}`);
  return runMetric(GradientNcc, metric, x1, x2, { patchSize, sigma, kernelSize, eps } satisfies GradientNccAttrs);
}

/**
 * Mutual information of `x1` and `x2` (`[B, C, H, W]`) with Gaussian histograms, in the fused
 * `MutualInformation` kernel: `[B]`, differentiable in both images.
 *
 * @param attrs `sigma` (> 0), `numBins` (>= 2), `epsilon` (>= 0) and `normalize`, as
 *   `mutualInformation` takes them (which validates them with clearer messages).
 */
export function mutualInformationFused(x1: tf.Tensor, x2: tf.Tensor, attrs: Omit<MutualInformationAttrs, 'withGradient'>): tf.Tensor1D {
  const metric = 'mutualInformationFused';
  const { sigma, numBins, epsilon, normalize } = attrs;
  if (!(sigma > 0 && Number.isFinite(sigma))) throw new Error(`${metric}: sigma: expected a finite number > 0, got ${String(sigma)}`);
  if (!(Number.isInteger(numBins) && numBins >= 2)) throw new Error(`${metric}: numBins: expected an integer >= 2, got ${String(numBins)}`);
  if (!(epsilon >= 0 && Number.isFinite(epsilon))) throw new Error(`${metric}: epsilon: expected a finite number >= 0, got ${String(epsilon)}`);
  if (typeof normalize !== 'boolean') throw new Error(`${metric}: normalize: expected a boolean, got ${String(normalize)}`);
  return runMetric(MutualInformation, metric, x1, x2, { sigma, numBins, epsilon, normalize } satisfies MutualInformationAttrs);
}
