/**
 * Siddon forward: the line integral of each ray through the volume (see `siddon_walker.ts` for the
 * geometry), summed in double precision.
 */
import { SiddonWalker, type AlphaRange, type VolumeShape } from './siddon_walker.js';

export type { AlphaRange, VolumeShape } from './siddon_walker.js';

/**
 * Writes `out[r] = sum over voxels of density * (alpha length inside the voxel)` for rays
 * `r = 0 .. nRays-1` from `source[3s .. 3s+2]`, `s = floor(r / raysPerSource)`, to
 * `target[3r .. 3r+2]`.
 *
 * @returns the number of voxel steps taken (segments visited), for the bench.
 */
export function siddonForwardImpl(
  density: Float32Array | Float64Array,
  shape: VolumeShape,
  source: Float32Array | Float64Array,
  target: Float32Array | Float64Array,
  nRays: number,
  voxelShift: number,
  range: AlphaRange,
  out: Float32Array | Float64Array,
  raysPerSource = 1,
): number {
  const walker = new SiddonWalker(shape, voxelShift, range);
  let steps = 0;
  for (let r = 0; r < nRays; r++) {
    const o = 3 * r;
    const so = 3 * Math.floor(r / raysPerSource);
    let sum = 0;
    if (walker.start(source[so], source[so + 1], source[so + 2], target[o], target[o + 1], target[o + 2])) {
      do {
        sum += density[walker.voxel] * (walker.alpha1 - walker.alpha0);
        steps++;
      } while (walker.advance());
    }
    out[r] = sum;
  }
  return steps;
}
