/**
 * The camera rays (`CameraRays`) and their gradient: per camera `b` and pixel centre `t_p`, the
 * target `C_b (t_p, 1)` in index coordinates and the length `|L_b t_p|` in mm, in double
 * precision; the gradient sums over the pixels in pixel order. A camera's matrices and sums are
 * held in locals (loads from a typed array cannot be hoisted past stores to another one).
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
    const [c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23] = camToIndex.subarray(12 * c, 12 * c + 12);
    const [l00, l01, l02, l10, l11, l12, l20, l21, l22] = linear.subarray(9 * c, 9 * c + 9);
    for (let q = 0; q < p; q++) {
      const x = points[3 * q];
      const y = points[3 * q + 1];
      const z = points[3 * q + 2];
      const o = 3 * (c * p + q);
      target[o] = c00 * x + c01 * y + c02 * z + c03;
      target[o + 1] = c10 * x + c11 * y + c12 * z + c13;
      target[o + 2] = c20 * x + c21 * y + c22 * z + c23;
      const u = l00 * x + l01 * y + l02 * z;
      const v = l10 * x + l11 * y + l12 * z;
      const w = l20 * x + l21 * y + l22 * z;
      rayLength[c * p + q] = sqrt(u * u + v * v + w * w);
    }
  }
}

/**
 * Writes `dCamToIndex` `[B, 3, 4]` and `dLinear` `[B, 3, 3]` for upstream gradients `dTarget`
 * `[B, P, 3]` and `dRayLength` `[B, P]` (see `CameraRaysGrad`): `sum_p dTarget (t, 1)ᵀ` and
 * `sum_p dRayLength (L t) tᵀ / |L t|` (d|L t| / dL; no term where the length is 0).
 */
export function cameraRaysGradImpl(linear: FloatArray, points: FloatArray, dTarget: FloatArray, dRayLength: FloatArray, dCamToIndex: FloatArray, dLinear: FloatArray): void {
  const p = points.length / 3;
  const b = linear.length / 9;
  for (let c = 0; c < b; c++) {
    const [l00, l01, l02, l10, l11, l12, l20, l21, l22] = linear.subarray(9 * c, 9 * c + 9);
    // sums of dTarget (t, 1)ᵀ: row a, column x y z 1
    let ax = 0, ay = 0, az = 0, a1 = 0, bx = 0, by = 0, bz = 0, b1 = 0, cx = 0, cy = 0, cz = 0, c1 = 0;
    // sums of dRayLength (L t) tᵀ / |L t|: rows u v w
    let ux = 0, uy = 0, uz = 0, vx = 0, vy = 0, vz = 0, wx = 0, wy = 0, wz = 0;
    for (let q = 0; q < p; q++) {
      const x = points[3 * q];
      const y = points[3 * q + 1];
      const z = points[3 * q + 2];
      const o = 3 * (c * p + q);
      const gu = dTarget[o];
      const gv = dTarget[o + 1];
      const gw = dTarget[o + 2];
      ax += gu * x;
      ay += gu * y;
      az += gu * z;
      a1 += gu;
      bx += gv * x;
      by += gv * y;
      bz += gv * z;
      b1 += gv;
      cx += gw * x;
      cy += gw * y;
      cz += gw * z;
      c1 += gw;
      const g = dRayLength[c * p + q];
      if (g === 0) continue;
      const u = l00 * x + l01 * y + l02 * z;
      const v = l10 * x + l11 * y + l12 * z;
      const w = l20 * x + l21 * y + l22 * z;
      const length = sqrt(u * u + v * v + w * w);
      if (length === 0) continue;
      const s = g / length;
      ux += s * u * x;
      uy += s * u * y;
      uz += s * u * z;
      vx += s * v * x;
      vy += s * v * y;
      vz += s * v * z;
      wx += s * w * x;
      wy += s * w * y;
      wz += s * w * z;
    }
    dCamToIndex.set([ax, ay, az, a1, bx, by, bz, b1, cx, cy, cz, c1], 12 * c);
    dLinear.set([ux, uy, uz, vx, vy, vz, wx, wy, wz], 9 * c);
  }
}
