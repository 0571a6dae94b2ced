/**
 * The backward pass of a forward that found each ray's gradient row (`SiddonScaleRayGradients`,
 * `TrilinearScaleRayGradients`): only scaling by the upstream gradient and summing, O(R).
 */
import type { FloatArray } from './siddon_impl.js';

/**
 * From `rows` (`[R, width]`: d value / d source (3), d value / d target (3), then with `dRange`
 * d value / d lo and d hi) and `dy` `[R]`: `dTarget[r] = dy[r] x` the target part of row `r`;
 * `dSource[s]` the sum over the source's rays of `dy[r] x` the source part, and `dRange` the sum
 * over all rays of `dy[r] x` the range part, each in ray order and double precision.
 */
export function scaleRayGradientsImpl(rows: FloatArray, width: number, dy: FloatArray, raysPerSource: number, dSource: FloatArray, dTarget: FloatArray, dRange: FloatArray | null = null): void {
  let lo = 0;
  let hi = 0;
  for (let s = 0; 3 * s < dSource.length; s++) {
    let x = 0;
    let y = 0;
    let z = 0;
    for (let r = s * raysPerSource; r < (s + 1) * raysPerSource; r++) {
      const g = dy[r];
      const o = width * r;
      x += g * rows[o];
      y += g * rows[o + 1];
      z += g * rows[o + 2];
      dTarget[3 * r] = g * rows[o + 3];
      dTarget[3 * r + 1] = g * rows[o + 4];
      dTarget[3 * r + 2] = g * rows[o + 5];
      if (dRange !== null) {
        lo += g * rows[o + 6];
        hi += g * rows[o + 7];
      }
    }
    dSource[3 * s] = x;
    dSource[3 * s + 1] = y;
    dSource[3 * s + 2] = z;
  }
  if (dRange !== null) {
    dRange[0] = lo;
    dRange[1] = hi;
  }
}
