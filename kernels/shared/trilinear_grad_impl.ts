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
 */
import { RaySum, TrilinearSampler, type TrilinearRays, type TrilinearSampling } from './trilinear_impl.js';

/** Where the ray gradients go: `dSource` `[S, 3]` (summed over each source's rays), `dTarget` `[R, 3]`, `dRange` `[2]`. */
export interface TrilinearRayGradients {
  dSource: Float32Array | Float64Array;
  dTarget: Float32Array | Float64Array;
  dRange: Float32Array | Float64Array;
}

/** Writes the gradients of `sum_r dy[r] I_r` with respect to the ray endpoints and the range into `out`. */
export function trilinearGradRaysImpl(rays: TrilinearRays, sampling: TrilinearSampling, dy: Float32Array | Float64Array, out: TrilinearRayGradients): void {
  const { source, target, nRays, raysPerSource } = rays;
  const { lo, hi } = sampling;
  const sampler = new TrilinearSampler(rays.density, rays.shape, sampling);
  const step = sampler.alphaStep;
  const invN1 = 1 / (sampling.nPoints - 1);
  const sums = new Float64Array(7);
  const sourceSums = new Float64Array(out.dSource.length);
  let dLo = 0;
  let dHi = 0;
  for (let r = 0; r < nRays; r++) {
    const o = 3 * r;
    const so = 3 * Math.floor(r / raysPerSource);
    const g = dy[r];
    let tx = 0;
    let ty = 0;
    let tz = 0;
    if (g !== 0 && sampler.start(source[so], source[so + 1], source[so + 2], target[o], target[o + 1], target[o + 2])) {
      sampler.integrate(sums, true);
      const f = sums[RaySum.Value];
      const ax = sums[RaySum.Gradient];
      const ay = sums[RaySum.Gradient + 1];
      const az = sums[RaySum.Gradient + 2];
      const bx = sums[RaySum.WeightedGradient];
      const by = sums[RaySum.WeightedGradient + 1];
      const bz = sums[RaySum.WeightedGradient + 2];
      const gs = g * step;
      tx = gs * (lo * ax + (hi - lo) * bx);
      ty = gs * (lo * ay + (hi - lo) * by);
      tz = gs * (lo * az + (hi - lo) * bz);
      sourceSums[so] += gs * ax - tx;
      sourceSums[so + 1] += gs * ay - ty;
      sourceSums[so + 2] += gs * az - tz;
      const { dx, dy: ddy, dz } = sampler;
      dLo += -g * f * invN1 + gs * ((ax - bx) * dx + (ay - by) * ddy + (az - bz) * dz);
      dHi += g * f * invN1 + gs * (bx * dx + by * ddy + bz * dz);
    }
    out.dTarget[o] = tx;
    out.dTarget[o + 1] = ty;
    out.dTarget[o + 2] = tz;
  }
  out.dSource.set(sourceSums);
  out.dRange[0] = dLo;
  out.dRange[1] = dHi;
}

/** Writes `dDensity[v] = sum_r dy[r] * step * (sum of voxel v's trilinear weights over ray r's samples)`. */
export function trilinearGradDensityImpl(rays: TrilinearRays, sampling: TrilinearSampling, dy: Float32Array | Float64Array, dDensity: Float32Array | Float64Array): void {
  const { source, target, nRays, raysPerSource } = rays;
  const sampler = new TrilinearSampler(rays.density, rays.shape, sampling);
  const step = sampler.alphaStep;
  const sums = new Float64Array(dDensity.length);
  for (let r = 0; r < nRays; r++) {
    const o = 3 * r;
    const so = 3 * Math.floor(r / raysPerSource);
    const w = dy[r] * step;
    if (w !== 0 && sampler.start(source[so], source[so + 1], source[so + 2], target[o], target[o + 1], target[o + 2])) sampler.scatter(sums, w);
  }
  dDensity.set(sums);
}
