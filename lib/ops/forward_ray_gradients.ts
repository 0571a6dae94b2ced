/**
 * When a fused forward also finds each ray's gradient for the backward pass (the `rayGradients`
 * attribute of `Siddon` and `Trilinear`): while a gradient tape records, with one channel and
 * 'sum', on a backend with the kernel that scales them, and as long as the rows the tape keeps
 * stay within `RAY_GRADIENTS_MAX_BYTES`. Otherwise the backward pass traverses the rays again.
 */
import * as tf from '@tensorflow/tfjs';

/**
 * The most bytes of per-ray gradient rows a forward hands to the tape: 256 MiB. (Siddon keeps 24
 * bytes per ray, Trilinear 32: a batch of 16 images of 1024x1024 would keep 384 / 512 MiB.)
 */
export const RAY_GRADIENTS_MAX_BYTES = 256 * 2 ** 20;

/**
 * Whether a forward of `nRays` rays should output its ray gradients (`rowWidth` float32 per ray),
 * with `scaleKernel` the kernel that turns them into the backward's gradients.
 */
export function wantsRayGradients(attrs: { channels: number; reduce: string }, nRays: number, rowWidth: number, scaleKernel: string): boolean {
  return (
    attrs.channels === 1 &&
    attrs.reduce === 'sum' &&
    tf.engine().isTapeOn() &&
    nRays * rowWidth * 4 <= RAY_GRADIENTS_MAX_BYTES &&
    tf.getKernel(scaleKernel, tf.getBackend()) != null
  );
}
