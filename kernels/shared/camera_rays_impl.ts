/**
 * The camera rays (`CameraRays`) and their gradient: per camera `b` and pixel centre `t_p`, the
 * target `C_b (t_p, 1)` in index coordinates and the length `|L_b t_p|` in mm, in double
 * precision; the gradient sums over the pixels in pixel order.
 */
import { sqrt } from './builtins.js';
import type { FloatArray } from './siddon_impl.js';

/**
 * Writes `target` `[B, P, 3]` and `rayLength` `[B, P]` for `camToIndex` `[B, 3, 4]`, `linear`
 * `[B, 3, 3]` and `points` `[P, 3]` (row-major).
 */
export function cameraRaysImpl(camToIndex: FloatArray, linear: FloatArray, points: FloatArray, target: FloatArray, rayLength: FloatArray): void {
  const p = points.length / 3;
  const b = camToIndex.length / 12;
  for (let c = 0; c < b; c++) {
    const m = 12 * c;
    const l = 9 * c;
    for (let q = 0; q < p; q++) {
      const x = points[3 * q];
      const y = points[3 * q + 1];
      const z = points[3 * q + 2];
      const o = 3 * (c * p + q);
      for (let i = 0; i < 3; i++) {
        target[o + i] = camToIndex[m + 4 * i] * x + camToIndex[m + 4 * i + 1] * y + camToIndex[m + 4 * i + 2] * z + camToIndex[m + 4 * i + 3];
      }
      const u = linear[l] * x + linear[l + 1] * y + linear[l + 2] * z;
      const v = linear[l + 3] * x + linear[l + 4] * y + linear[l + 5] * z;
      const w = linear[l + 6] * x + linear[l + 7] * y + linear[l + 8] * z;
      rayLength[c * p + q] = sqrt(u * u + v * v + w * w);
    }
  }
}

/** Adds `a (x, y, z)` to `sums[at .. at + 2]`. */
function addOuter(sums: Float64Array, at: number, a: number, x: number, y: number, z: number): void {
  sums[at] += a * x;
  sums[at + 1] += a * y;
  sums[at + 2] += a * z;
}

/**
 * Writes `dCamToIndex` `[B, 3, 4]` and `dLinear` `[B, 3, 3]` for upstream gradients `dTarget`
 * `[B, P, 3]` and `dRayLength` `[B, P]` (see `CameraRaysGrad`).
 */
export function cameraRaysGradImpl(linear: FloatArray, points: FloatArray, dTarget: FloatArray, dRayLength: FloatArray, dCamToIndex: FloatArray, dLinear: FloatArray): void {
  const p = points.length / 3;
  const b = linear.length / 9;
  const sumC = new Float64Array(12);
  const sumL = new Float64Array(9);
  for (let c = 0; c < b; c++) {
    sumC.fill(0);
    sumL.fill(0);
    const l = 9 * c;
    for (let q = 0; q < p; q++) {
      const x = points[3 * q];
      const y = points[3 * q + 1];
      const z = points[3 * q + 2];
      const o = 3 * (c * p + q);
      for (let i = 0; i < 3; i++) {
        const g = dTarget[o + i];
        sumC[4 * i] += g * x;
        sumC[4 * i + 1] += g * y;
        sumC[4 * i + 2] += g * z;
        sumC[4 * i + 3] += g;
      }
      const u = linear[l] * x + linear[l + 1] * y + linear[l + 2] * z;
      const v = linear[l + 3] * x + linear[l + 4] * y + linear[l + 5] * z;
      const w = linear[l + 6] * x + linear[l + 7] * y + linear[l + 8] * z;
      const length = sqrt(u * u + v * v + w * w);
      const g = dRayLength[c * p + q];
      if (length === 0 || g === 0) continue;
      // d|L t| / dL = (L t) tᵀ / |L t|
      const s = g / length;
      addOuter(sumL, 0, s * u, x, y, z);
      addOuter(sumL, 3, s * v, x, y, z);
      addOuter(sumL, 6, s * w, x, y, z);
    }
    for (let i = 0; i < 12; i++) dCamToIndex[12 * c + i] = sumC[i];
    for (let i = 0; i < 9; i++) dLinear[9 * c + i] = sumL[i];
  }
}
