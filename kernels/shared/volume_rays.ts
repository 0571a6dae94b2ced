/** The arrays every ray kernel reads: a C-order volume and rays in its index coordinates. */
import type { VolumeShape } from './siddon_walker.js';

/** Ray `r` runs from `source[floor(r / raysPerSource)]` to `target[r]` (3 values each). */
export interface VolumeRays {
  /** Voxel values, C order `[X, Y, Z]` (k fastest). */
  density: Float32Array | Float64Array;
  shape: VolumeShape;
  /** `[S, 3]` ray starts. */
  source: Float32Array | Float64Array;
  /** `[R, 3]` ray ends. */
  target: Float32Array | Float64Array;
  /** Number of rays R. */
  nRays: number;
  /** R / S: consecutive rays sharing one source. */
  raysPerSource: number;
  /**
   * Names the values of `density`: calls with the same key have the same values (the key of the
   * tensor data holding them, `volumeKeyOf`), so a kernel may keep its own copy between calls.
   * Absent: no such promise.
   */
  densityKey?: number;
}

/**
 * The rays `[first, end)` a kernel call computes (a thread's share). Per-ray outputs of the other
 * rays are left as they are; sums over rays (a source's gradient, the range's, the volume's) are
 * taken over these rays only.
 */
export interface RayRange {
  first: number;
  end: number;
}

/**
 * `range`, or every ray of `rays` when it is absent.
 *
 * @throws Error if the range is not integers with `0 <= first <= end <= nRays`.
 */
export function rayRangeOf(rays: VolumeRays, range?: RayRange): RayRange {
  if (range === undefined) return { first: 0, end: rays.nRays };
  const { first, end } = range;
  if (!(Number.isInteger(first) && Number.isInteger(end) && first >= 0 && first <= end && end <= rays.nRays)) {
    throw new Error(`ray range: expected integers 0 <= first <= end <= ${rays.nRays}, got [${first}, ${end})`);
  }
  return range;
}
