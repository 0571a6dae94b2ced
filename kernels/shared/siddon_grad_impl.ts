/**
 * Siddon backward, analytic: each ray is walked again (no tape of intermediates), summing in
 * double precision.
 *
 * Sum: with `L = sum_k w_k (alpha_{k+1} - alpha_k)`, `w_k = dy[label_k] density_k`, and a face
 * crossing of axis `a` at plane `c`, `alpha = (c - s_a) / d_a`, `d = t - s`:
 *
 *     dL/d alpha      = w_before - w_after           (the jump; 0 outside the volume)
 *     d alpha / d s_a = (alpha - 1) / d_a
 *     d alpha / d t_a = -alpha / d_a
 *
 * summed over every crossed face, the volume's entry and exit faces included (ends set by
 * alphaMin / alphaMax do not move with the endpoints). Max: only the maximal segment of each
 * channel counts, `L = dy density (alpha_end - alpha_start)`, through its two bounding faces.
 * d L / d density_v is `dy` times the alpha length inside voxel v (of the maximal segment for max).
 * The ray length in mm multiplies outside the kernel, on the tape.
 */
import type { SiddonAttrs } from '../kernel_names.js';
import { floor } from './builtins.js';
import { labelOf, type FloatArray, type SiddonRays } from './siddon_impl.js';
import { faceJumpsAlongRay, scatterAlongRay } from './siddon_sum_loops.js';
import { SiddonWalker } from './siddon_walker.js';
import { rayRangeOf, type RayRange } from './volume_rays.js';

/** The maximal segment of each channel of one ray (reduce 'max'). */
class MaxSegments {
  readonly value: Float64Array;
  readonly density: Float64Array;
  readonly length: Float64Array;
  readonly voxel: Int32Array;
  readonly startAxis: Int32Array;
  readonly startAlpha: Float64Array;
  readonly endAxis: Int32Array;
  readonly endAlpha: Float64Array;

  constructor(channels: number) {
    this.value = new Float64Array(channels);
    this.density = new Float64Array(channels);
    this.length = new Float64Array(channels);
    this.voxel = new Int32Array(channels);
    this.startAxis = new Int32Array(channels);
    this.startAlpha = new Float64Array(channels);
    this.endAxis = new Int32Array(channels);
    this.endAlpha = new Float64Array(channels);
  }

  /** Walks the ray (already started) and keeps, per channel, the first segment of largest value. */
  collect(walker: SiddonWalker, density: FloatArray, mask: FloatArray | null, channels: number): void {
    this.value.fill(0);
    let startAxis = walker.entryAxis;
    let startAlpha = walker.amin;
    for (;;) {
      const rho = density[walker.voxel];
      const length = walker.alpha1 - walker.alpha0;
      const c = labelOf(mask, walker.voxel, channels);
      if (rho * length > this.value[c]) {
        const last = walker.crossAxis < 0;
        this.value[c] = rho * length;
        this.density[c] = rho;
        this.length[c] = length;
        this.voxel[c] = walker.voxel;
        this.startAxis[c] = startAxis;
        this.startAlpha[c] = startAlpha;
        this.endAxis[c] = last ? walker.exitAxis : walker.crossAxis;
        this.endAlpha[c] = last ? walker.amax : walker.alpha1;
      }
      startAxis = walker.crossAxis;
      startAlpha = walker.alpha1;
      if (!walker.advance()) break;
    }
  }
}

/**
 * Accumulates `dSource` (`[S, 3]`, summed over each source's rays) and writes `dTarget` (`[R, 3]`)
 * for upstream gradients `dy` (`[R, channels]`). With a `range`, only its rays: their `dTarget`
 * rows, and `dSource` summed over them (0 for sources without a ray in the range).
 */
export function siddonGradRaysImpl(rays: SiddonRays, attrs: SiddonAttrs, dy: FloatArray, dSource: FloatArray, dTarget: FloatArray, range?: RayRange): void {
  const { density, source, target, raysPerSource, mask } = rays;
  const { first, end } = rayRangeOf(rays, range);
  const channels = attrs.channels;
  const walker = new SiddonWalker(rays.shape, attrs.voxelShift, attrs);
  const maxSegments = attrs.reduce === 'max' ? new MaxSegments(channels) : null;
  const gs = new Float64Array(3);
  const gt = new Float64Array(3);
  const jumps = new Float64Array(6);
  const sourceSums = new Float64Array(dSource.length);
  /**
   * Adds the contribution of the face of `axis` crossed at `alpha` where dL/d alpha = `jump` (axis
   * -1: a fixed end). The division by d_axis is left to the end of the ray (one per axis).
   */
  const cross = (axis: number, alpha: number, jump: number) => {
    if (axis < 0) return;
    gs[axis] += jump * (alpha - 1);
    gt[axis] -= jump * alpha;
  };
  /** The dy-weighted density of a voxel for ray r (sum). */
  const weight = (r: number, voxel: number) => dy[r * channels + labelOf(mask, voxel, channels)] * density[voxel];
  for (let r = first; r < end; r++) {
    const o = 3 * r;
    const so = 3 * floor(r / raysPerSource);
    gs.fill(0);
    gt.fill(0);
    if (walker.start(source[so], source[so + 1], source[so + 2], target[o], target[o + 1], target[o + 2])) {
      if (maxSegments) {
        maxSegments.collect(walker, density, mask, channels);
        for (let c = 0; c < channels; c++) {
          if (!(maxSegments.value[c] > 0)) continue;
          const g = dy[r * channels + c] * maxSegments.density[c];
          cross(maxSegments.endAxis[c], maxSegments.endAlpha[c], g);
          cross(maxSegments.startAxis[c], maxSegments.startAlpha[c], -g);
        }
      } else if (channels === 1) {
        // jumps of the density, times the ray's upstream gradient
        faceJumpsAlongRay(walker, density, jumps);
        const g = dy[r];
        for (let a = 0; a < 3; a++) {
          gs[a] = g * (jumps[3 + a] - jumps[a]);
          gt[a] = -g * jumps[3 + a];
        }
      } else {
        let w = weight(r, walker.voxel);
        cross(walker.entryAxis, walker.amin, -w);
        for (;;) {
          const axis = walker.crossAxis;
          const alpha = walker.alpha1;
          if (!walker.advance()) break;
          const next = weight(r, walker.voxel);
          cross(axis, alpha, w - next);
          w = next;
        }
        cross(walker.exitAxis, walker.amax, w);
      }
    }
    // d alpha / d s_a = (alpha - 1) / d_a, d alpha / d t_a = -alpha / d_a; an axis with d_a = 0
    // has no crossing, so its sums are 0
    const { dx, dy: dyAxis, dz } = walker;
    dTarget[o] = gt[0] === 0 ? 0 : gt[0] / dx;
    dTarget[o + 1] = gt[1] === 0 ? 0 : gt[1] / dyAxis;
    dTarget[o + 2] = gt[2] === 0 ? 0 : gt[2] / dz;
    sourceSums[so] += gs[0] === 0 ? 0 : gs[0] / dx;
    sourceSums[so + 1] += gs[1] === 0 ? 0 : gs[1] / dyAxis;
    sourceSums[so + 2] += gs[2] === 0 ? 0 : gs[2] / dz;
  }
  dSource.set(sourceSums);
}

/**
 * Writes `dDensity[v] = sum over rays of dy x (alpha length of the ray inside voxel v)`, over the
 * rays of `range` (default all). A `Float64Array` `dDensity` is itself the accumulator (zeroed
 * first; no temporary volume), else the sums are taken in a temporary double-precision volume.
 */
export function siddonGradDensityImpl(rays: SiddonRays, attrs: SiddonAttrs, dy: FloatArray, dDensity: FloatArray, range?: RayRange): void {
  const { density, source, target, raysPerSource, mask } = rays;
  const { first, end } = rayRangeOf(rays, range);
  const channels = attrs.channels;
  const walker = new SiddonWalker(rays.shape, attrs.voxelShift, attrs);
  const maxSegments = attrs.reduce === 'max' ? new MaxSegments(channels) : null;
  const sums = dDensity instanceof Float64Array ? dDensity.fill(0) : new Float64Array(dDensity.length);
  for (let r = first; r < end; r++) {
    const o = 3 * r;
    const so = 3 * floor(r / raysPerSource);
    if (!walker.start(source[so], source[so + 1], source[so + 2], target[o], target[o + 1], target[o + 2])) continue;
    if (maxSegments) {
      maxSegments.collect(walker, density, mask, channels);
      for (let c = 0; c < channels; c++) {
        if (maxSegments.value[c] > 0) sums[maxSegments.voxel[c]] += dy[r * channels + c] * maxSegments.length[c];
      }
    } else if (channels === 1) {
      scatterAlongRay(walker, dy[r], sums);
    } else {
      do {
        sums[walker.voxel] += dy[r * channels + labelOf(mask, walker.voxel, channels)] * (walker.alpha1 - walker.alpha0);
      } while (walker.advance());
    }
  }
  if (sums !== dDensity) dDensity.set(sums);
}
