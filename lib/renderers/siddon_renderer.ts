/**
 * Renders rays with Siddon's method: the line integrals from the fused kernel where the backend
 * has one (the tensor-op reference elsewhere, or when asked for), times the ray lengths in mm.
 */
import * as tf from '@tensorflow/tfjs';
import { hasFusedSiddon, siddon, type SiddonOptions } from '../ops/siddon.js';
import { siddonReference } from './siddon_reference.js';

/** Which implementation renders: the fused kernel when registered ('auto'), or one of them. */
export type Implementation = 'auto' | 'fused' | 'reference';

/**
 * Pixel values `[B, P]` = ray length (mm) x line integral of `density` from `source` to `target`
 * in index coordinates (`source` `[B, 3]` one per pose, or `[B, P, 3]`; `target` `[B, P, 3]`).
 */
export function renderSiddon(
  density: tf.Tensor3D,
  source: tf.Tensor,
  target: tf.Tensor3D,
  rayLength: tf.Tensor2D,
  options: SiddonOptions,
  implementation: Implementation = 'auto',
): tf.Tensor2D {
  return tf.tidy(() => {
    const [b, p] = target.shape;
    const s = source.reshape([source.rank === 2 ? b : b * p, 3]) as tf.Tensor2D;
    const t = target.reshape([b * p, 3]) as tf.Tensor2D;
    const fused = implementation === 'fused' || (implementation === 'auto' && hasFusedSiddon());
    const integrals = fused ? siddon(density, s, t, options) : siddonReference(density, s, t, options);
    return tf.mul(integrals.reshape([b, p]), rayLength) as tf.Tensor2D;
  });
}
