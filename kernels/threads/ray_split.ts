/**
 * How a call's rays are split across threads: contiguous ranges, in thread order (thread 0, the
 * calling thread, takes the first). Deterministic: it depends on the ray and source counts and the
 * number of parts only, so results never depend on timing.
 *
 * Per-ray outputs (the image, d/d target) are computed per ray whatever the split, so they equal a
 * single-threaded call's to the bit. A source's gradient is a sum over its rays: when every range
 * starts on a source boundary, each source's sum is taken by one thread in the single-threaded
 * order (bit-identical again); when a source's rays are split (a single pose, S = 1), the threads'
 * partial sums are added in thread order (equal to the single-threaded sum up to rounding).
 */
import type { RayRange } from '../shared/volume_rays.js';

/**
 * Largest range, relative to an even split, accepted for ranges aligned on source boundaries
 * (beyond it the load imbalance costs more than the bit-identical source gradient is worth).
 */
export const MAX_ALIGNED_IMBALANCE = 1.25;

/**
 * `parts` contiguous ranges covering rays `[0, nRays)` (some may be empty when `parts > nRays`):
 * on source boundaries (multiples of `raysPerSource`) when there are several sources and the
 * largest range stays within `MAX_ALIGNED_IMBALANCE` of `nRays / parts`, else as even as possible.
 */
export function splitRays(nRays: number, raysPerSource: number, parts: number): RayRange[] {
  const nSources = nRays / raysPerSource;
  const even = boundaries(parts, (t) => Math.round((t * nRays) / parts));
  if (raysPerSource > 1 && nSources > 1) {
    const aligned = boundaries(parts, (t) => raysPerSource * Math.round((t * nSources) / parts));
    const largest = Math.max(...aligned.map((r) => r.end - r.first));
    if (largest <= (MAX_ALIGNED_IMBALANCE * nRays) / parts) return aligned;
  }
  return even;
}

function boundaries(parts: number, at: (t: number) => number): RayRange[] {
  const ranges: RayRange[] = [];
  for (let t = 0; t < parts; t++) ranges.push({ first: at(t), end: at(t + 1) });
  return ranges;
}

/** The sources `[first, end)` that the rays of `range` start from. */
export function sourcesOf(range: RayRange, raysPerSource: number): RayRange {
  if (range.end <= range.first) return { first: 0, end: 0 };
  return { first: Math.floor(range.first / raysPerSource), end: Math.floor((range.end - 1) / raysPerSource) + 1 };
}
