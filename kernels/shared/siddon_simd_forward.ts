/**
 * The Siddon forward (one channel, 'sum') through the WebAssembly SIMD kernels (`kernels/simd`,
 * `siddon_simd.h`): the rays go in chunks of `SIMD_CHUNK`, four walkers at once, and each ray's
 * pixel, and its gradient row when asked, is the JS walk's to the bit (the same float64
 * operations in the same order). Rays the module leaves to JS (not finite) are summed by `js`.
 */
import type { SiddonAttrs } from '../kernel_names.js';
import { RayStatus, SIMD_CHUNK, SUM_FIELDS, simdKernels } from '../simd/simd_kernels.js';
import { min } from './builtins.js';
import type { FloatArray, SiddonRays } from './siddon_impl.js';
import type { RayRange } from './volume_rays.js';

/** Width of a ray gradient row (d/d source, d/d target). */
const ROW = 6;

/**
 * Writes `out[r]` (and with `rayGradients` its row) for rays `range` of `rays` as
 * `siddonForwardImpl`'s one-channel sum does; `js(r)` does it for a ray the module leaves to JS.
 * @returns the number of segments visited (0 with `rayGradients`, as `siddonForwardImpl`), or
 *   null (and nothing written) where the SIMD kernels do not apply: a float64 volume, a volume too
 *   large, or no WebAssembly SIMD here.
 */
export function siddonForwardSimd(rays: SiddonRays, attrs: SiddonAttrs, out: FloatArray, range: RayRange, rayGradients: FloatArray | null, js: (r: number) => void): number | null {
  const { density, source, target, raysPerSource } = rays;
  if (!(density instanceof Float32Array)) return null;
  const simd = simdKernels();
  if (simd === null || !simd.fits(rays.shape, 'plain')) return null;
  simd.setVolume(density, rays.shape, rays.densityKey, 'plain');
  const withJumps = rayGradients !== null;
  let segments = 0;
  for (let first = range.first; first < range.end; first += SIMD_CHUNK) {
    const n = min(SIMD_CHUNK, range.end - first);
    const s0 = simd.setRays(source, target, first, n, raysPerSource);
    segments += simd.sumSiddonRays(s0, first, n, raysPerSource, attrs, withJumps);
    const { sums, status } = simd;
    for (let i = 0; i < n; i++) {
      const r = first + i;
      if (status[i] === RayStatus.ForJs) {
        js(r);
        continue;
      }
      out[r] = sums[SUM_FIELDS * i];
      if (rayGradients !== null) {
        for (let a = 0; a < ROW; a++) rayGradients[ROW * r + a] = sums[SUM_FIELDS * i + 1 + a];
      }
    }
  }
  return segments;
}
