/**
 * Trilinear backward, analytic: the samples of each ray are visited again (no tape of
 * intermediates), summing in double precision.
 *
 * With `I = step * sum_k f(p_k)`, `p_k = s + alpha_k d`, `d = t - s`,
 * `alpha_k = lo + (hi - lo) u_k`, `u_k = k / (n - 1)`, `step = (hi - lo) / (n - 1)`, and per ray
 * `F = sum_k f(p_k)`, `A = sum_k grad f(p_k)`, `B = sum_k u_k grad f(p_k)` (3-vectors):
 *
 *     dI/dt  = step * sum_k alpha_k grad f = step * (lo A + (hi - lo) B)
 *     dI/ds  = step * sum_k (1 - alpha_k) grad f = step * A - dI/dt
 *     dI/dlo = -F / (n - 1) + step * (A - B) . d
 *     dI/dhi =  F / (n - 1) + step * B . d
 *
 * (`grad f` is the gradient of the trilinear interpolation, one-sided on cell faces.)
 * d I / d rho_v is `step` times the sum of the trilinear weights of voxel v over the samples.
 * The ray length in mm multiplies outside the kernel, on the tape.
 *
 * With C channels, `dy` is `[R, C]` and every sample k carries the weight `dy[r, c]` of the channel
 * it went to (label channels: `dy[r, label_k]`; reduce 'max': the maximal sample of channel c only,
 * none when the max is an implicit 0), so `F`, `A`, `B` become the weighted sums
 * `sum_k w_k f(p_k)`, `sum_k w_k grad f(p_k)`, `sum_k w_k u_k grad f(p_k)` and the formulas above
 * hold with `dy = 1`.
 */
import { floor } from './builtins.js';
import type { FloatArray } from './siddon_impl.js';
import { SampleChannels, TrilinearSampler, type TrilinearRays, type TrilinearSampling } from './trilinear_impl.js';
import { RAY_GRADIENT_WIDTH, RaySum, rayGradientOf } from './trilinear_ray_gradient.js';
import { rayRangeOf, type RayRange } from './volume_rays.js';

/** Where the ray gradients go: `dSource` `[S, 3]` (summed over each source's rays), `dTarget` `[R, 3]`, `dRange` `[2]`. */
export interface TrilinearRayGradients {
  dSource: Float32Array | Float64Array;
  dTarget: Float32Array | Float64Array;
  dRange: Float32Array | Float64Array;
}

/**
 * The mask of a call with `channels` (null for one channel).
 * @throws Error if more than one channel comes without a mask.
 */
function maskOf(rays: TrilinearRays, channels: number): FloatArray | null {
  if (channels === 1) return null;
  if (!rays.mask) throw new Error(`trilinear: ${channels} channels need a mask`);
  return rays.mask;
}

/**
 * Visits the samples of the ray `sampler` was last started on (`started`: what `start` returned)
 * with their upstream weights (see the file comment): `visit(k, w)` for every sample whose weight
 * may be nonzero. Every case but the plain one-channel sum.
 */
function weightedSamples(
  sampler: TrilinearSampler,
  started: boolean,
  reducer: SampleChannels,
  mask: FloatArray | null,
  dy: FloatArray,
  row: number,
  visit: (k: number, w: number) => void,
): void {
  const channels = reducer.channels;
  if (reducer.isMax) {
    reducer.collect(sampler, started, mask);
    for (let c = 0; c < channels; c++) {
      const k = reducer.best[c];
      const w = dy[row + c];
      if (k >= 0 && w !== 0) visit(k, w);
    }
  } else if (started) {
    for (let k = sampler.kBegin; k < sampler.kEnd; k++) {
      const w = dy[row + (mask === null ? 0 : sampler.labelAt(k, mask, channels))];
      if (w !== 0) visit(k, w);
    }
  }
}

/**
 * Turns each ray's sums F, A, B (`RaySum` layout) into its endpoint gradients and adds its share
 * of the range gradient (`rayGradientOf`); `g` scales sums not yet weighted by dy.
 */
class RayGradientAccumulator {
  private readonly out: TrilinearRayGradients;
  private readonly sampling: TrilinearSampling;
  private readonly row = new Float64Array(RAY_GRADIENT_WIDTH);
  private readonly sourceSums: Float64Array;
  private dLo = 0;
  private dHi = 0;

  constructor(out: TrilinearRayGradients, sampling: TrilinearSampling) {
    this.out = out;
    this.sampling = sampling;
    this.sourceSums = new Float64Array(out.dSource.length);
  }

  /** Ray with target offset `o` and source offset `so`, direction `(dx, dy, dz)`. */
  add(o: number, so: number, sums: Float64Array, g: number, dx: number, dy: number, dz: number): void {
    const row = this.row;
    rayGradientOf(sums, this.sampling, g, dx, dy, dz, row, 0);
    this.sourceSums[so] += row[0];
    this.sourceSums[so + 1] += row[1];
    this.sourceSums[so + 2] += row[2];
    this.out.dTarget[o] = row[3];
    this.out.dTarget[o + 1] = row[4];
    this.out.dTarget[o + 2] = row[5];
    this.dLo += row[6];
    this.dHi += row[7];
  }

  /** Writes the source and range gradients. */
  finish(): void {
    this.out.dSource.set(this.sourceSums);
    this.out.dRange[0] = this.dLo;
    this.out.dRange[1] = this.dHi;
  }
}

/**
 * Writes the gradients of `sum_r sum_c dy[r, c] I_rc` with respect to the ray endpoints and the
 * range into `out`. With a `range`, only its rays: their `dTarget` rows, and `dSource` and `dRange`
 * summed over them (0 for sources without a ray in the range).
 */
export function trilinearGradRaysImpl(rays: TrilinearRays, sampling: TrilinearSampling, dy: Float32Array | Float64Array, out: TrilinearRayGradients, range?: RayRange): void {
  const channels = sampling.channels ?? 1;
  const { first, end } = rayRangeOf(rays, range);
  if (channels > 1 || sampling.reduce === 'max') {
    trilinearGradRaysChannels(rays, sampling, dy, out, first, end);
    return;
  }
  const { source, target, raysPerSource } = rays;
  const sampler = new TrilinearSampler(rays.density, rays.shape, sampling);
  const rayGradients = new RayGradientAccumulator(out, sampling);
  const sums = new Float64Array(7);
  for (let r = first; r < end; r++) {
    const o = 3 * r;
    const so = 3 * floor(r / raysPerSource);
    const g = dy[r];
    if (g !== 0 && sampler.start(source[so], source[so + 1], source[so + 2], target[o], target[o + 1], target[o + 2])) sampler.integrate(sums, true);
    else sums.fill(0);
    rayGradients.add(o, so, sums, g, sampler.dx, sampler.dy, sampler.dz);
  }
  rayGradients.finish();
}

/** `trilinearGradRaysImpl` with label channels or reduce 'max' (rays `[first, end)`): one sample at a time, weighted. */
function trilinearGradRaysChannels(rays: TrilinearRays, sampling: TrilinearSampling, dy: FloatArray, out: TrilinearRayGradients, first: number, end: number): void {
  const { source, target, raysPerSource } = rays;
  const channels = sampling.channels ?? 1;
  const mask = maskOf(rays, channels);
  const sampler = new TrilinearSampler(rays.density, rays.shape, sampling);
  const reducer = new SampleChannels(channels, sampling.reduce === 'max');
  const rayGradients = new RayGradientAccumulator(out, sampling);
  const invN1 = 1 / (sampling.nPoints - 1);
  const grad = new Float64Array(3);
  // Per ray: F, A (3), B (3) of the file comment (RaySum layout), weighted by dy.
  const sums = new Float64Array(7);
  const visit = (k: number, w: number) => {
    const f = sampler.valueAt(k, grad);
    const wu = w * k * invN1;
    sums[RaySum.Value] += w * f;
    for (let a = 0; a < 3; a++) {
      sums[RaySum.Gradient + a] += w * grad[a];
      sums[RaySum.WeightedGradient + a] += wu * grad[a];
    }
  };
  for (let r = first; r < end; r++) {
    const o = 3 * r;
    const so = 3 * floor(r / raysPerSource);
    sums.fill(0);
    const started = sampler.start(source[so], source[so + 1], source[so + 2], target[o], target[o + 1], target[o + 2]);
    weightedSamples(sampler, started, reducer, mask, dy, r * channels, visit);
    rayGradients.add(o, so, sums, 1, sampler.dx, sampler.dy, sampler.dz);
  }
  rayGradients.finish();
}

/**
 * Writes `dDensity[v] = sum_r sum_c dy[r, c] * step * (sum of voxel v's trilinear weights over the
 * samples of ray r in channel c)` (the maximal sample only with reduce 'max'), over the rays of
 * `range` (default all). A `Float64Array` `dDensity` is itself the accumulator (zeroed first; no
 * temporary volume), else the sums are taken in a temporary double-precision volume.
 */
export function trilinearGradDensityImpl(rays: TrilinearRays, sampling: TrilinearSampling, dy: Float32Array | Float64Array, dDensity: Float32Array | Float64Array, range?: RayRange): void {
  const { source, target, raysPerSource } = rays;
  const { first, end } = rayRangeOf(rays, range);
  const sampler = new TrilinearSampler(rays.density, rays.shape, sampling);
  const step = sampler.alphaStep;
  const sums = dDensity instanceof Float64Array ? dDensity.fill(0) : new Float64Array(dDensity.length);
  const channels = sampling.channels ?? 1;
  if (channels > 1 || sampling.reduce === 'max') {
    const mask = maskOf(rays, channels);
    const reducer = new SampleChannels(channels, sampling.reduce === 'max');
    const visit = (k: number, w: number) => sampler.scatterAt(sums, k, w * step);
    for (let r = first; r < end; r++) {
      const o = 3 * r;
      const so = 3 * floor(r / raysPerSource);
      const started = sampler.start(source[so], source[so + 1], source[so + 2], target[o], target[o + 1], target[o + 2]);
      weightedSamples(sampler, started, reducer, mask, dy, r * channels, visit);
    }
  } else {
    for (let r = first; r < end; r++) {
      const o = 3 * r;
      const so = 3 * floor(r / raysPerSource);
      const w = dy[r] * step;
      if (w !== 0 && sampler.start(source[so], source[so + 1], source[so + 2], target[o], target[o + 1], target[o + 2])) sampler.scatter(sums, w);
    }
  }
  if (sums !== dDensity) dDensity.set(sums);
}
