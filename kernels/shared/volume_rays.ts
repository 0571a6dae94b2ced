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
}
