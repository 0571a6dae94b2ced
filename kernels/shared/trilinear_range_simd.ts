/**
 * The `(lo, hi)` of `trilinearRangeImpl` through the WebAssembly SIMD module
 * (`kernels/simd/trilinear_range.c`): the rays go in chunks of `SIMD_CHUNK`, each chunk's extremes
 * from the module, combined as the JS loop combines rays (NaN if any is NaN); for the gradient,
 * with each ray's bounds and faces. The same values to the bit as the JS loops of
 * `trilinear_range_impl.ts`, which take the calls this does not.
 */
import { SIMD_CHUNK, simdKernels } from '../simd/simd_kernels.js';
import { max, min } from './builtins.js';
import type { RangeRays } from './trilinear_range_impl.js';

/** Each ray's alphaMin and alphaMax, `[R]` each, and the box face each depends on (`RayBounds`' codes). */
export interface RayRangeBounds {
  alphaMin: Float32Array;
  alphaMax: Float32Array;
  minFace: Int8Array;
  maxFace: Int8Array;
}

/**
 * `(lo, hi)` of `rays` for the box faces `c0`, `c1` (per axis, float32 values), and with `bounds`
 * each ray's bounds and faces written there; or null where the module does not apply: endpoints
 * not float32, no WebAssembly SIMD here, or a `hi` of zero (whose sign the JS loop takes from the
 * first ray attaining it).
 */
export function trilinearRangeSimd(rays: RangeRays, c0: ArrayLike<number>, c1: ArrayLike<number>, bounds?: RayRangeBounds): [number, number] | null {
  const { source, target, nRays, raysPerSource } = rays;
  if (!(source instanceof Float32Array && target instanceof Float32Array) || nRays === 0) return null;
  const simd = simdKernels();
  if (simd === null) return null;
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let first = 0; first < nRays; first += SIMD_CHUNK) {
    const n = min(SIMD_CHUNK, nRays - first);
    const [chunkLo, chunkHi] = simd.trilinearRange(simd.setRays(source, target, first, n, raysPerSource), first, n, raysPerSource, c0, c1, bounds !== undefined);
    lo = min(lo, chunkLo);
    hi = max(hi, chunkHi);
    if (bounds !== undefined) {
      bounds.alphaMin.set(simd.bounds.subarray(0, n), first);
      bounds.alphaMax.set(simd.bounds.subarray(SIMD_CHUNK, SIMD_CHUNK + n), first);
      bounds.minFace.set(simd.faces.subarray(0, n), first);
      bounds.maxFace.set(simd.faces.subarray(SIMD_CHUNK, SIMD_CHUNK + n), first);
    }
  }
  return hi === 0 ? null : [lo, hi];
}
