/**
 * The Trilinear forward (one channel, 'sum') through the WebAssembly SIMD kernels
 * (`kernels/simd`): the rays go in chunks of `SIMD_CHUNK`, the module sets each up and sums it
 * (float32 sums, see `trilinear_simd.h`), and each ray's pixel, and its gradient row when asked,
 * is written as the JS path writes it (`out[r] = step F`, `rayGradientOf`). Rays the module leaves
 * to JS (not finite) are summed by `sampler`.
 */
import { RayStatus, SIMD_CHUNK, SUM_FIELDS, simdKernels } from '../simd/simd_kernels.js';
import { floor, min } from './builtins.js';
import type { TrilinearRays, TrilinearSampler, TrilinearSampling } from './trilinear_impl.js';
import { RAY_GRADIENT_WIDTH, RaySum, rayGradientOf } from './trilinear_ray_gradient.js';
import type { RayRange } from './volume_rays.js';

/** The most samples per ray for the SIMD kernels: they count samples in float32, exact up to 2^24. */
const MAX_SAMPLES = 2 ** 24;

/**
 * Writes `out[r]` (and with `rayGradients` its row) for rays `range` of `rays` as
 * `trilinearForwardImpl`'s one-channel sum does.
 * @returns the number of samples that touched the volume with `sampling.countSamples` (else 0), or
 *   null (and nothing written) where the
 *   SIMD kernels do not apply: `simd: false`, a float64 volume, a volume too large, more than 2^24
 *   samples per ray, or no WebAssembly SIMD here.
 */
export function trilinearForwardSimd(rays: TrilinearRays, sampling: TrilinearSampling, out: Float32Array | Float64Array, range: RayRange, rayGradients: Float32Array | Float64Array | null, sampler: TrilinearSampler): number | null {
  const { density, source, target, raysPerSource } = rays;
  if (sampling.simd === false || !(density instanceof Float32Array) || sampling.nPoints > MAX_SAMPLES) return null;
  const simd = simdKernels();
  if (simd === null || !simd.fits(rays.shape, 'padded')) return null;
  simd.setVolume(density, rays.shape, rays.densityKey, 'padded');
  const step = sampler.alphaStep;
  const simdSampling = { shift: sampling.voxelShift - 0.5, lo: sampling.lo, step, nPoints: sampling.nPoints, countSamples: sampling.countSamples === true };
  const withGradient = rayGradients !== null;
  const sums = new Float64Array(SUM_FIELDS);
  let samples = 0;
  for (let first = range.first; first < range.end; first += SIMD_CHUNK) {
    const n = min(SIMD_CHUNK, range.end - first);
    const s0 = simd.setRays(source, target, first, n, raysPerSource);
    samples += simd.sumTrilinearRays(s0, first, n, raysPerSource, simdSampling, withGradient);
    const { sums: raw, status } = simd;
    for (let i = 0; i < n; i++) {
      const r = first + i;
      if (rayGradients === null && status[i] === RayStatus.Summed) {
        out[r] = step * raw[SUM_FIELDS * i + RaySum.Value];
        continue;
      }
      const o = 3 * r;
      const so = 3 * floor(r / raysPerSource);
      if (status[i] === RayStatus.ForJs) {
        sums.fill(0);
        if (sampler.start(source[so], source[so + 1], source[so + 2], target[o], target[o + 1], target[o + 2])) {
          const touching = sampler.integrate(sums, withGradient);
          if (simdSampling.countSamples) samples += touching;
        }
      } else {
        for (let a = 0; a < SUM_FIELDS; a++) sums[a] = raw[SUM_FIELDS * i + a];
      }
      out[r] = step * sums[RaySum.Value];
      if (rayGradients !== null) {
        const dx = target[o] - source[so];
        const dy = target[o + 1] - source[so + 1];
        const dz = target[o + 2] - source[so + 2];
        rayGradientOf(sums, sampling, 1, dx, dy, dz, rayGradients, RAY_GRADIENT_WIDTH * r);
      }
    }
  }
  return samples;
}
